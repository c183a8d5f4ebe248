"""Upload bytes -> the digits of a handwritten number, each as the 8x8 counts the model sees,
with its box in the upload: the recognition core end to end.

    locate_ink -> read_region (the whole line) -> segment -> fit_to_box -> block_counts

`POST /read` answers every digit (`read_number`); `POST /predict` answers the one digit and
refuses an image that holds several (`read_digit`), so that both read a single digit the same
way.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digits.core.decoding import Limits
from digits.core.errors import NoDigitFound, SeveralDigits, TooManyDigits
from digits.core.preprocess import (Component, block_counts, fit_to_box, joint_box, locate_ink,
                                    no_digit_message, read_region)
from digits.core.segmentation import MAX_DIGITS, segment

LINE_SPECK = 2  # small-copy pixels: a blob beside the line larger than this may be a digit


@dataclass(frozen=True)
class Reading:
    """What was read: one 8x8 count array per digit (left to right) with its box in the
    upload's pixels (left, top, width, height), and the dots and dashes set aside, as
    (kind, box)."""

    pixels: list
    boxes: list
    marks: list


def line_components(page):
    """The page's components that make up the line of digits: those not dust, and every blob
    in the rows they span that lies between them or is more than a speck. On the small copy a
    thin digit of a long number may be a few small blobs that would pass for dust; the
    segmentation weighs them again at the line's resolution."""
    left, top, right, bottom = joint_box(page.components)
    areas = np.bincount(page.labels.ravel())
    inside = []
    for label, (rows, cols) in enumerate(ndimage.find_objects(page.labels), start=1):
        if rows is None or rows.start >= bottom or rows.stop <= top:
            continue
        if (cols.start < right and cols.stop > left) or areas[label] > LINE_SPECK:
            inside.append(Component(label, int(areas[label]),
                                    (cols.start, rows.start, cols.stop, rows.stop)))
    return inside


def digit_confidence(classify):
    """The `score` segmentation cuts by: for a list of digit masks, how sure `classify` is of
    each (its top probability), each mask read as a digit is (fit_to_box -> block_counts)."""
    def score(masks):
        return classify(np.stack([block_counts(fit_to_box(mask)) for mask in masks])).max(axis=1)

    return score


def read_number(data, classify, limits=Limits(), max_digits=MAX_DIGITS):
    """Read the number in an upload. `classify(pixels)` gives probability rows for a stack of
    8x8 count arrays; it chooses where touching digits are cut.

    Raises NotAnImage and ImageTooLarge (decoding), NoDigitFound, SeveralLines, TooManyDigits.
    """
    page = locate_ink(data, limits)
    region = read_region(page, line_components(page))
    digits, marks = segment(region.mask, digit_confidence(classify), max_digits)
    if not digits:  # only dots or dashes
        raise NoDigitFound(no_digit_message())
    return Reading([block_counts(fit_to_box(digit.mask)) for digit in digits],
                   [region.upload_box(page, digit.box) for digit in digits],
                   [(mark.kind, region.upload_box(page, mark.box)) for mark in marks])


def read_digit(data, classify, limits=Limits(), max_digits=MAX_DIGITS):
    """The 8x8 counts of the one digit in an upload, read as `read_number` reads a number of
    length one.

    Raises what read_number raises, and SeveralDigits when the image holds more than one digit.
    """
    try:
        reading = read_number(data, classify, limits, max_digits)
    except TooManyDigits:
        found = f"more than {max_digits}"
    else:
        if len(reading.pixels) == 1:
            return reading.pixels[0]
        found = str(len(reading.pixels))
    raise SeveralDigits(f"The image holds {found} digits, not one. Send it to POST /read to "
                        "have it read as a number, digit by digit.")
