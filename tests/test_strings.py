"""The segmentation model's training data: strings synthesised from load_digits alone, and the
search's candidate pieces in them, labelled by the digits' ink each holds."""

import numpy as np

from digits.core.segmentation import FRAGMENT, ONE, SEVERAL_DIGITS, Segment
from digits.lab.strings import _label, labelled_pieces, string_mask
from digits.lab.training import split

TRAIN_IMAGES = split(0)[0]


def test_a_string_is_its_digits_ink_touching_on_one_line():
    line, owners = string_mask(TRAIN_IMAGES[:3], np.random.default_rng(0))
    assert len(owners) == 3 and all(own.shape == line.shape for own in owners)
    assert np.array_equal(np.logical_or.reduce(owners), line)
    lefts = [np.flatnonzero(own.any(axis=0))[0] for own in owners]
    assert lefts == sorted(lefts)


def test_pieces_are_labelled_by_the_digits_ink_they_hold():
    first, second = np.zeros((20, 30), dtype=bool), np.zeros((20, 30), dtype=bool)
    first[:, 2:8], second[:, 12:18] = True, True
    whole = first | second

    def piece(left, right):
        return Segment(whole[:, left:right], (left, 0, right, 20))

    assert _label(piece(0, 10), [first, second]) == ONE
    assert _label(piece(0, 5), [first, second]) == FRAGMENT
    assert _label(piece(0, 20), [first, second]) == SEVERAL_DIGITS
    assert _label(piece(0, 14), [first, second]) == FRAGMENT  # one and a third of another


def test_the_training_pieces_hold_every_class():
    pieces, labels = labelled_pieces(TRAIN_IMAGES[:200], seed=0)
    assert len(pieces) == len(labels) > 200
    assert set(np.unique(labels)) == {ONE, FRAGMENT, SEVERAL_DIGITS}
    assert all(height > 0 and piece.mask.any() for piece, height in pieces)


def test_a_string_whose_digits_share_no_row_is_left_out(monkeypatch):
    """A string can come out with its digits in two rows (one drawn high, the next low, no row
    holding both): two lines, not one, so the training data leaves it out (segmentation
    refused it once, which failed train.py when the strings were made in other chunks)."""
    from digits.lab import strings

    def two_rows(images, rng):
        line = np.zeros((60, 60), dtype=bool)
        line[0:25, 0:20] = line[0:25, 25:45] = True
        line[35:60, 0:20] = line[35:60, 25:45] = True
        return line, [line]

    monkeypatch.setattr(strings, "string_mask", two_rows)
    pieces, labels = labelled_pieces(TRAIN_IMAGES[:10], seed=0)
    assert pieces == [] and len(labels) == 0
