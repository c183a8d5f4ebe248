"""digits/lab/distillation.py: a network taught by several merged comes to answer as they do,
keeps its own size and input scale, and leaves the network it started from untouched."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from digits.lab.distillation import distil, logits
from digits.lab.ensemble import merge_networks

SCALE = 16.0  # the networks train on counts / 16 and then take counts, as the shipped one


def fitted(seed, rows, labels, hidden=(24, 12), max_iter=80):
    """A small network fit briefly on `rows` / SCALE, its first layer then folded to take the
    counts themselves (as `digits.lab.training.fit_network` does)."""
    network = MLPClassifier(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        network.fit(rows / SCALE, labels)
    network.coefs_[0] = network.coefs_[0] / SCALE
    return network


@pytest.fixture(scope="module")
def lesson():
    """Three networks, each trained on its own 500 digits; their merge; digits none saw (the
    last writers of `load_digits`, whom the networks read 76-80 % right and their merge 84 %)."""
    images, labels = load_digits(return_X_y=True)
    members = [fitted(seed, images[500 * seed:500 * (seed + 1)],
                      labels[500 * seed:500 * (seed + 1)]) for seed in range(3)]
    return members, merge_networks(members, 1.2), images[:1500], images[1500:]


def centred(values):
    return values - values.mean(axis=1, keepdims=True)


def divergence(teacher, student, rows):
    """Mean Kullback-Leibler divergence of the student's answers from the teacher's."""
    p, q = teacher.predict_proba(rows), student.predict_proba(rows)
    return np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1))


def test_logits_are_what_the_softmax_of_predict_proba_is_taken_of(lesson):
    members, teacher, _, unseen = lesson
    for network in [*members, teacher]:
        values = logits(network, unseen)
        softmax = np.exp(values - values.max(axis=1, keepdims=True))
        assert np.allclose(softmax / softmax.sum(axis=1, keepdims=True),
                           network.predict_proba(unseen), atol=1e-9)


def test_the_taught_network_answers_closer_to_its_teacher_even_on_digits_it_never_saw(lesson):
    members, teacher, rows, unseen = lesson
    taught = distil(members[0], teacher, rows, epochs=15, scale=SCALE)
    target = centred(logits(teacher, unseen))
    before = np.mean((centred(logits(members[0], unseen)) - target) ** 2)
    after = np.mean((centred(logits(taught, unseen)) - target) ** 2)
    assert after < 0.5 * before  # (1.23 -> 0.42)
    # and its probabilities are nearer the teacher's: less information lost reading as it
    assert divergence(teacher, taught, unseen) < 0.85 * divergence(teacher, members[0], unseen)



def test_the_taught_network_keeps_its_size_input_scale_and_leaves_the_student_as_it_was(lesson):
    members, teacher, rows, unseen = lesson
    weights = [layer.copy() for layer in members[0].coefs_]
    taught = distil(members[0], teacher, rows, epochs=2, scale=SCALE)
    assert isinstance(taught, MLPClassifier)
    assert [layer.shape for layer in taught.coefs_] == [layer.shape for layer in weights]
    assert all(np.array_equal(a, b) for a, b in zip(members[0].coefs_, weights))
    # it takes counts 0..16 as the student did: two epochs on, its logits are still near the
    # student's (fed inputs 16 times too large, a relu network's logits grow about 16-fold,
    # although its answers may not change)
    size = np.abs(centred(logits(members[0], unseen))).mean()
    assert np.abs(centred(logits(taught, unseen)) - centred(logits(members[0], unseen))).mean() < (
        0.5 * size)
    assert not hasattr(taught, "_optimizer")  # nothing of the fit is pickled with it


def test_a_teacher_of_other_classes_or_activation_is_refused(lesson):
    members, _, rows, _ = lesson
    _, labels = load_digits(return_X_y=True)
    odd = fitted(0, rows[labels[:1500] < 5], labels[:1500][labels[:1500] < 5])
    with pytest.raises(ValueError, match="same classes"):
        distil(members[0], odd, rows, epochs=1, scale=SCALE)
    tanh = MLPClassifier(hidden_layer_sizes=(4,), activation="tanh", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tanh.fit(rows / SCALE, labels[:1500])
    with pytest.raises(ValueError, match="tanh"):
        logits(tanh, rows)
