"""digits/lab/ensemble.py: networks merged into one MLPClassifier answer the softmax of their mean
logits, through one predict_proba, with nothing of the merge's scaffolding pickled."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from digits.lab.ensemble import merge_networks


def fitted(seed, hidden=(16, 8)):
    """A small network fit briefly on load_digits: members differ by seed."""
    images, labels = load_digits(return_X_y=True)
    network = MLPClassifier(hidden_layer_sizes=hidden, max_iter=5, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return network.fit(images[:600] / 16, labels[:600])


@pytest.fixture(scope="module")
def networks():
    return [fitted(seed) for seed in range(3)]


def consensus(networks, rows, temperature=1.0):
    """Softmax of the mean of the networks' log-probabilities (= of their mean logits), divided
    by the temperature."""
    logits = np.mean([np.log(network.predict_proba(rows)) for network in networks],
                     axis=0) / temperature
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_the_merged_network_answers_the_softmax_of_the_members_mean_logits(networks):
    merged = merge_networks(networks)
    rows = load_digits().data[600:800] / 16
    assert isinstance(merged, MLPClassifier)
    assert merged.hidden_layer_sizes == (48, 24)
    assert np.allclose(merged.predict_proba(rows), consensus(networks, rows), atol=1e-9)
    # not the answer of any one member
    assert not np.allclose(merged.predict_proba(rows), networks[0].predict_proba(rows),
                           atol=1e-3)


def test_a_temperature_above_1_softens_the_consensus_without_changing_it(networks):
    rows = load_digits().data[600:800] / 16
    softened = merge_networks(networks, temperature=1.5).predict_proba(rows)
    assert np.allclose(softened, consensus(networks, rows, 1.5), atol=1e-9)
    sharp = merge_networks(networks).predict_proba(rows)
    assert (softened.max(axis=1) < sharp.max(axis=1)).mean() > 0.95
    assert np.array_equal(softened.argmax(axis=1), sharp.argmax(axis=1))


def test_each_merged_unit_sees_only_its_own_network_below_it(networks):
    second = merge_networks(networks).coefs_[1]
    assert np.count_nonzero(second[:16, 8:]) == 0 and np.count_nonzero(second[16:32, :8]) == 0
    assert np.array_equal(second[16:32, 8:16], networks[1].coefs_[1])


def test_the_merge_pickles_its_weights_and_little_of_its_scaffolding(networks):
    merged = merge_networks(networks)
    assert merged.get_params()["solver"] == networks[0].solver
    assert merged.hidden_layer_sizes == tuple(w.shape[1] for w in merged.coefs_[:-1])
    weights = sum(weights.nbytes for weights in merged.coefs_ + merged.intercepts_)
    assert len(pickle.dumps(merged)) < 1.5 * weights  # no optimizer state (3x) beside them


def test_one_network_is_its_own_merge_and_mismatched_ones_are_refused(networks):
    assert merge_networks(networks[:1]) is networks[0]
    one = merge_networks(networks[:1], temperature=2.0)
    rows = load_digits().data[:50] / 16
    assert np.allclose(one.predict_proba(rows), consensus(networks[:1], rows, 2.0), atol=1e-9)
    with pytest.raises(ValueError, match="cannot be merged"):
        merge_networks([networks[0], fitted(5, hidden=(16,))])
