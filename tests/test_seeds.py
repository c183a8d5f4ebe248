"""The seed study (digits/lab/seeds.py): one split for every network, refused uploads counted as
wrong, and a table with a row per network and their merge."""

import numpy as np
import pytest

from digits.lab import seeds
from digits.lab.training import heldout, model_metadata, split, train


class AlwaysSays:
    """A classifier that gives one digit all the probability, whatever it is shown."""

    classes_ = np.arange(10)
    n_features_in_ = 64

    def __init__(self, digit):
        self.digit = digit

    def predict_proba(self, rows):
        answer = np.zeros((len(rows), 10))
        answer[:, self.digit] = 1.0
        return answer


def test_a_refused_upload_counts_as_a_wrong_answer():
    labels = np.array([3, 3, 5])
    pixels = np.zeros((2, 3, 64))
    pixels[1, 0] = np.nan  # the second kind's first upload was refused
    heldout = (np.zeros((4, 64)), np.array([3, 3, 3, 1]))
    figures = seeds.scores(AlwaysSays(3), pixels, labels, heldout)
    assert figures["mean"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert figures["worst_kind"] == pytest.approx(1 / 3)
    assert figures["per_digit"][3] == pytest.approx(3 / 4)
    assert figures["per_digit"][5] == 0.0
    assert figures["per_digit"][0] is None  # no 0 among the labels
    assert figures["heldout"] == pytest.approx(0.75)


def test_a_split_seed_holds_out_the_same_digits_whatever_the_seed():
    training = train(seed=1, cv_folds=0, copies=0, max_iter=3, split_seed=0, n_jobs=1,
                     tune=False)
    _, images, _, labels = split(0)
    assert training.split_seed == 0
    assert training.heldout_accuracy == (training.model.predict(images) == labels).mean()
    # evaluate.py measures the model on those digits, read back from its metadata
    recorded_images, recorded_labels = heldout(model_metadata(training, "0" * 64))
    assert np.array_equal(recorded_images, images) and np.array_equal(recorded_labels, labels)


def test_metadata_without_a_split_seed_holds_out_its_training_seed_s_digits():
    images, labels = heldout({"hyperparameters": {"random_state": 2}, "data": {}})
    _, expected_images, _, expected_labels = split(2)
    assert np.array_equal(images, expected_images) and np.array_equal(labels, expected_labels)


def test_the_study_prints_a_row_per_network_and_their_merge(capsys):
    seeds.main(["--seeds", "0", "1", "--per-kind", "4", "--copies", "0", "--max-iter", "3"])
    printed = capsys.readouterr().out.splitlines()
    rows = [line.split()[:2] if line.startswith("seed") else line.split()[:1]
            for line in printed[2:5]]
    assert rows == [["seed", "0"], ["seed", "1"], ["merged"]]
    assert printed[-1].startswith("spread of the mean over seeds:")
