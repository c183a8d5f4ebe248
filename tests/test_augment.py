"""The writing styles training adds to `load_digits`: a plain 1, a 4 with a raised bar and a 7
without its bar, each drawn from the digit's own strokes (pictures in the notebook); and the
distortion, computed only where ink can land, draws what the whole frame would."""

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage
from sklearn.datasets import load_digits

from digits.lab import augment
from digits.lab.augment import STYLES, barless_seven, plain_one, restyle

WIDTH = 6


def drawn(*strokes):
    """A 64x64 bitmap with these strokes ((x0, y0, x1, y1), pen WIDTH pixels)."""
    canvas = Image.new("L", (64, 64))
    for stroke in strokes:
        ImageDraw.Draw(canvas).line(stroke, fill=255, width=WIDTH)
    return np.asarray(canvas) > 0


def columns_with_ink(bitmap, rows):
    return np.flatnonzero(bitmap[rows].any(axis=0))


SEVEN_WITH_BAR = drawn((12, 6, 50, 6), (50, 6, 26, 60), (20, 34, 52, 34))
ONE_WITH_FLAG_AND_BASE = drawn((31, 4, 31, 60), (31, 4, 16, 16), (18, 58, 46, 58))
# load_digits' 4: a closed top over a bar at about 60 % of the height, the upright below it
FOUR_WITH_LOW_BAR = drawn((40, 4, 40, 60), (40, 4, 14, 38), (14, 38, 52, 38))


def widest_row(bitmap):
    return int(np.argmax(bitmap.sum(axis=1)))


def test_barless_seven_keeps_the_top_bar_and_the_downstroke_and_drops_the_crossbar():
    seven = barless_seven(SEVEN_WITH_BAR)
    crossbar = slice(31, 38)
    assert np.ptp(columns_with_ink(SEVEN_WITH_BAR, crossbar)) > 25  # the bar is there before
    assert np.ptp(columns_with_ink(seven, crossbar)) <= 2 * WIDTH  # only the downstroke after
    assert (seven[3:10] == SEVEN_WITH_BAR[3:10]).all()  # the top bar is untouched
    assert seven[55:62].any()  # the foot of the downstroke is kept


def test_plain_one_cuts_the_flag_and_the_base_away():
    one = plain_one(ONE_WITH_FLAG_AND_BASE)
    assert columns_with_ink(ONE_WITH_FLAG_AND_BASE, slice(4, 20)).min() < 20  # flag before
    assert np.ptp(columns_with_ink(one, slice(0, 64))) <= 2 * WIDTH  # one upright after
    assert one[10:50, 29:34].all()  # the upright itself stays


def test_raised_bar_four_lifts_the_bar_above_the_middle_and_keeps_the_digit_s_extent(
        monkeypatch):
    monkeypatch.setattr(augment, "RAISED_BAR_POWER", (0.7, 0.7))
    four = augment.raised_bar_four(FOUR_WITH_LOW_BAR, np.random.default_rng(0))
    assert 35 <= widest_row(FOUR_WITH_LOW_BAR) <= 41  # the bar before: below the middle
    assert widest_row(four) <= 31  # after: at or above the middle (row 31.5 of 4..60)
    rows, before = np.flatnonzero(four.any(axis=1)), np.flatnonzero(FOUR_WITH_LOW_BAR.any(axis=1))
    assert abs(rows[0] - before[0]) <= 1 and abs(rows[-1] - before[-1]) <= 1  # same extent
    assert four[45:60, 38:43].all()  # the upright still runs down to the foot
    assert abs(int(four.sum()) - int(FOUR_WITH_LOW_BAR.sum())) < 0.2 * FOUR_WITH_LOW_BAR.sum()


def test_raised_bar_four_varies_how_far_the_bar_rises():
    bars = {widest_row(augment.raised_bar_four(FOUR_WITH_LOW_BAR, np.random.default_rng(seed)))
            for seed in range(20)}
    assert len(bars) >= 3 and max(bars) < widest_row(FOUR_WITH_LOW_BAR)


def test_restyle_redraws_only_digits_with_another_style_and_only_as_often_as_asked():
    rng = np.random.default_rng(0)
    assert set(STYLES) == {1, 4, 7}
    assert (restyle(SEVEN_WITH_BAR, 7, rng, 1.0) == barless_seven(SEVEN_WITH_BAR)).all()
    assert restyle(SEVEN_WITH_BAR, 7, rng, 0.0) is SEVEN_WITH_BAR
    assert restyle(SEVEN_WITH_BAR, 5, rng, 1.0) is SEVEN_WITH_BAR  # a 5 has no other style here
    redrawn = sum(restyle(SEVEN_WITH_BAR, 7, rng, 0.3) is not SEVEN_WITH_BAR
                  for _ in range(1000))
    assert 240 <= redrawn <= 360


def test_a_style_that_would_erase_most_of_the_digit_is_not_applied(monkeypatch):
    # a style that misread the strokes and kept a third of the ink
    monkeypatch.setitem(STYLES, 7, lambda bitmap, rng: bitmap & (np.arange(64) % 3 == 0))
    assert restyle(SEVEN_WITH_BAR, 7, np.random.default_rng(0), 1.0) is SEVEN_WITH_BAR


def distorted_in_the_whole_frame(bitmap, rng):
    """`augment.distort` with every step over the whole padded frame, as it was first written:
    the same random draws, no window."""
    size = bitmap.shape[0]
    matrix, offset = augment.random_affine(size, rng)
    padded = np.pad(bitmap.astype(np.float32), size // 2)
    warped = ndimage.affine_transform(padded, matrix, offset=offset, order=1)
    dy, dx = augment.displacement(warped.shape, rng)
    ys, xs = np.mgrid[0:warped.shape[0], 0:warped.shape[1]]
    inked = augment.restroke(ndimage.map_coordinates(warped, [ys + dy, xs + dx], order=1) >= 0.5,
                             rng)
    return inked if inked.any() else bitmap


@pytest.mark.parametrize("seed", range(4))
def test_the_distortion_draws_exactly_what_the_whole_frame_would(seed):
    images = load_digits().data
    for index in range(seed * 40, seed * 40 + 40):
        bitmap = augment.counts_to_bitmap(images[index])
        expected = distorted_in_the_whole_frame(bitmap, np.random.default_rng([seed, index]))
        actual = augment.distort(bitmap, np.random.default_rng([seed, index]))
        assert actual.shape == expected.shape and np.array_equal(actual, expected)
