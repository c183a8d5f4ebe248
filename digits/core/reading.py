"""Upload bytes -> what is written in it: the recognition core end to end, as one Reader.

    decode_image -> grayscale -> locate (paper, ink, components) -> line_regions
                 -> segment each line (digits, marks, what is written between the digits)
                 -> fit_to_boxes -> block_counts -> probabilities

A Reader is built once from the two models (the digit classifier and the segmentation model)
and the settings that belong to reading (limits, most digits, the confidence threshold); the
service, the evaluation, the notebook and the benchmarks all read through it. `read_number`
answers every line of the image and every digit of each; `read_digit` answers the one digit
and refuses an image that holds several, so that both read a single digit the same way. The
digit classifier is asked once for all the digits found; before that, both models judge the
candidate pieces of ink that may be touching digits (`judge`), so that the search over cuts
can choose.
"""

from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np

from digits.core.decoding import Limits, decode_image
from digits.core.errors import NoDigitFound, SeveralDigits, TooManyDigits
from digits.core.ink import flattened, grayscale, line_regions, locate
from digits.core.model import load_model, load_segmenter, probabilities
from digits.core.optdigits import block_counts, fit_to_boxes
from digits.core.segmentation import (MAX_DIGITS, ONE, SCORE_BUDGET, piece_geometry, segment,
                                      separators, stroke_crossings)


PROBABILITY_FLOOR = 1e-6  # a piece judged impossible still has a finite log score
# How often a boundary between two digits read is where the writer put one, by how it was
# found: paper between them (GAP_RIGHT), or a cut through touching ink (CUT_RIGHT). A number's
# confidence is its digits' confidences times one of these per boundary, so that it counts the
# segmentation's errors too. Fitted by maximum likelihood on the dev split's numbers (`python
# evaluate.py --split dev` prints the fit): number ECE there 0.085 -> 0.016.
GAP_RIGHT, CUT_RIGHT = 0.985, 0.80


@dataclass(frozen=True)
class Digit:
    """One digit read: the 8x8 counts the model saw, its ten probabilities (digit order), its
    box in the upload's pixels (left, top, width, height), whether its confidence is under
    the reader's threshold, and whether it was cut from the digit before it through touching
    ink (`cut`)."""

    pixels: np.ndarray
    probabilities: np.ndarray
    box: tuple
    uncertain: bool
    cut: bool = False

    @cached_property
    def ranked(self):
        """The ten digits, most likely first."""
        return np.argsort(self.probabilities)[::-1]

    @property
    def digit(self):
        return int(self.ranked[0])

    @property
    def confidence(self):
        return float(self.probabilities[self.digit])


@dataclass(frozen=True)
class Mark:
    """Ink set aside as not a digit: its `kind` ("dot" or "dash") and box in the upload."""

    kind: str
    box: tuple


@dataclass(frozen=True)
class Separator:
    """What is written between two digits: its `symbol` ("." "-" or " "), how many digits
    come before it (`after`; 0 for a minus sign), and its box in the upload (for a space, the
    gap)."""

    symbol: str
    after: int
    box: tuple


@dataclass(frozen=True)
class Reading:
    """What an image or one line of it holds: its digits in reading order, what is written
    between them (Separators; between two lines a line break, "\n"), the marks left out, the
    probability that all its digits and the boundaries between them are right (theirs
    multiplied, `boundaries_right`) and whether that is under the threshold; for an image
    of several lines, the Reading of each (`lines`)."""

    digits: tuple
    separators: tuple
    marks: tuple
    confidence: float
    uncertain: bool
    parts: tuple = ()  # the lines' Readings when there are several

    @property
    def lines(self):
        """The Readings of the lines, top to bottom (this one alone for a single line)."""
        return self.parts or (self,)

    @property
    def box(self):
        """(left, top, width, height) around its digits, in the upload's pixels."""
        left = min(digit.box[0] for digit in self.digits)
        top = min(digit.box[1] for digit in self.digits)
        right = max(digit.box[0] + digit.box[2] for digit in self.digits)
        bottom = max(digit.box[1] + digit.box[3] for digit in self.digits)
        return (left, top, right - left, bottom - top)

    @property
    def number(self):
        """The number as written: its digits left to right, with the point, dash or space read
        between them ("12.5", "12-34", "12 34") and a minus sign before them ("-12"); a line
        break between two lines ("\n", before the next line's sign)."""
        before = {}
        for separator in self.separators:  # in order: a line break, then that line's sign
            before[separator.after] = before.get(separator.after, "") + separator.symbol
        return "".join(before.get(index, "") + str(digit.digit)
                       for index, digit in enumerate(self.digits))


def boundaries_right(digits):
    """How likely the boundaries between a line's digits (Digits, left to right) are all where
    the writer put them: GAP_RIGHT for each the paper parted, CUT_RIGHT for each cut."""
    cuts = sum(digit.cut for digit in digits)
    return GAP_RIGHT ** (len(digits) - 1 - cuts) * CUT_RIGHT ** cuts


def joined(lines, threshold):
    """The Reading of an image from its lines' Readings (top to bottom): their digits in
    reading order, their separators with a line break between two lines, their marks, the
    product of their confidences (for one line, that line's Reading)."""
    if len(lines) == 1:
        return lines[0]
    separators, before = [], 0
    for index, line in enumerate(lines):
        if index:
            above = lines[index - 1].box
            left = min(above[0], line.box[0])
            right = max(above[0] + above[2], line.box[0] + line.box[2])
            bottom = above[1] + above[3]
            separators.append(Separator("\n", before, (left, bottom, right - left,
                                                        max(0, line.box[1] - bottom))))
        separators += [Separator(separator.symbol, before + separator.after, separator.box)
                       for separator in line.separators]
        before += len(line.digits)
    confidence = float(np.prod([line.confidence for line in lines]))
    return Reading(tuple(digit for line in lines for digit in line.digits), tuple(separators),
                   tuple(mark for line in lines for mark in line.marks), confidence,
                   confidence < threshold, tuple(lines))


@dataclass(frozen=True)
class Pieces:
    """The line's ink cut up: the Region it was read in, its digits' Segments (left to right),
    the Separators between them and the Marks left out, in pixels of the region's mask; and
    the counts of the masks fitted while the image was read (`counts_of`'s `fitted`), so that
    a digit the search judged and kept as it was is not fitted again."""

    region: object
    digits: list
    separators: list
    marks: list
    fitted: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Reader:
    """Reads uploads with the digit classifier (`estimator`), the segmentation model and one
    set of reading settings."""

    estimator: object
    threshold: float
    segmenter: object
    limits: Limits = Limits()
    max_digits: int = MAX_DIGITS

    def read_number(self, data):
        """What an upload holds, every line of it: a Reading (its `lines` top to bottom), from
        its bytes through every stage in turn.

        Raises NotAnImage and ImageTooLarge (decoding), NoDigitFound and TooManyDigits (more
        than `max_digits` in the image).
        """
        return self._read(data, one_digit=False)

    def _read(self, data, one_digit):
        """An upload's Reading through every stage in turn (`stages(one_digit)`)."""
        value = data
        for _name, stage in self.stages(one_digit):
            value = stage(value)
        return value

    def stages(self, one_digit=False):
        """The reading's stages in order, as (name, function of the previous stage's result):
        what `read_number` runs (`read_digit` with `one_digit`), and what a profile times one
        by one."""
        return (("decode (bounded, reduced, upright)", self.decode),
                ("locate: paper, ink mask, ruling, components", locate_page),
                ("the lines' regions read again", line_regions),
                ("segment: merge, marks, cuts, separators",
                 partial(self.segment, one_digit=one_digit)),
                ("fit to the box, count blocks", count_blocks),
                ("predict_proba, the answer", self.answer))

    def decode(self, data):
        """Upload bytes -> a Decoded image, within the reader's limits."""
        return decode_image(data, self.limits)

    def segment(self, regions, one_digit=False):
        """The lines' Regions -> their Pieces (the digits' masks and the marks set aside),
        lines of only marks left out; with `one_digit`, narrow ink alone on a line is taken
        for one digit unjudged (`segmentation.segment`). Raises NoDigitFound when no line
        holds a digit and TooManyDigits past `max_digits` in all."""
        lines, found, budget, fitted = [], 0, [SCORE_BUDGET], {}
        judge = partial(self.judge, fitted=fitted)
        for region in regions:
            try:
                digits, marks = segment(region.mask, judge, self.max_digits - found, budget,
                                        one_digit, region.core)
            except TooManyDigits:
                raise TooManyDigits(self.max_digits) from None
            if digits:  # a line of only dots or dashes is not read
                found += len(digits)
                lines.append(Pieces(region, digits, *separators(digits, marks), fitted))
        if not lines:
            raise NoDigitFound()
        return lines

    def answer(self, counted):
        """(each line's Pieces, their digits' 8x8 counts) -> the Reading: one predict_proba
        call for all digits of every line."""
        lines, pixels = counted
        rows, start, readings = self.probabilities(pixels), 0, []
        for pieces in lines:
            stop = start + len(pieces.digits)
            readings.append(self._line_reading(pieces, pixels[start:stop], rows[start:stop]))
            start = stop
        return joined(readings, self.threshold)

    def _line_reading(self, pieces, pixels, rows):
        """One line's Reading from its Pieces, their counts and their probability rows."""
        region = pieces.region
        # a piece's left cut crossed ink only where the search cut it from the one before
        digits = tuple(Digit(counts, row, upload_box(region, piece.box),
                             float(row.max()) < self.threshold, piece.crossed[0] > 0)
                       for counts, row, piece in zip(pixels, rows, pieces.digits))
        confidence = float(np.prod([digit.confidence for digit in digits])
                           * boundaries_right(digits))
        between = tuple(Separator(separator.symbol, separator.after,
                                  upload_box(region, separator.box))
                        for separator in pieces.separators)
        marks = tuple(Mark(mark.kind, upload_box(region, mark.box)) for mark in pieces.marks)
        return Reading(digits, between, marks, confidence, confidence < self.threshold)

    def read_digit(self, data):
        """The one digit in an upload (read as `read_number` reads a number of length one,
        but narrow ink alone is that digit, not judged whether it is two): a Digit.

        Raises what read_number raises, and SeveralDigits when the image holds more than one.
        """
        try:
            reading = self._read(data, one_digit=True)
        except TooManyDigits:
            raise SeveralDigits(None, self.max_digits) from None
        if len(reading.digits) != 1:
            raise SeveralDigits(len(reading.digits), self.max_digits)
        return reading.digits[0]

    def probabilities(self, pixels):
        """P(digit) rows of the estimator for a stack of 8x8 count arrays (one call)."""
        return probabilities(self.estimator, pixels)

    def judge(self, pieces, height, fitted=None):
        """How likely each piece of ink (Segments of a line `height` pixels tall) is one
        digit, read as its likeliest digit: log P(one digit) of the segmentation model plus
        the log of the estimator's top probability. The score the search over cuts adds up.
        `fitted`: as for `counts_of`."""
        counts = counts_of([piece.mask for piece in pieces], fitted)
        one = self.segmenter.predict_proba(piece_features(counts, pieces, height))[:, ONE]
        return (np.log(np.maximum(one, PROBABILITY_FLOOR))
                + np.log(self.probabilities(counts).max(axis=1)))


def load_reader(model_path, threshold=None, limits=Limits(), max_digits=MAX_DIGITS):
    """A Reader of the digit model at `model_path` and the segmentation model beside it, both
    checked (`load_model`, `load_segmenter`), with the model's tuned threshold unless
    `threshold` is given: (the Reader, the digit model's metadata). Raises ModelUnavailable."""
    estimator, metadata = load_model(model_path)
    segmenter, _ = load_segmenter(model_path)
    threshold = metadata["confidence_threshold"] if threshold is None else threshold
    return Reader(estimator, threshold, segmenter, limits, max_digits), metadata


def upload_box(region, part):
    """`part` of a line Region (left, top, right, bottom in pixels of its mask) in the upload's
    own pixels, as a person sees it: (left, top, width, height)."""
    left, top, right, bottom = region.box
    height, width = region.mask.shape
    per_x, per_y = region.upload_scale
    scale_x, scale_y = (right - left) / width * per_x, (bottom - top) / height * per_y
    x0, y0 = left * per_x, top * per_y  # the region's corner in upload pixels
    box_left, box_top = round(x0 + part[0] * scale_x), round(y0 + part[1] * scale_y)
    return (box_left, box_top, round(x0 + part[2] * scale_x) - box_left,
            round(y0 + part[3] * scale_y) - box_top)


def locate_page(decoded):
    """A Decoded image -> its Page: the paper, the ink and its components."""
    detail = decoded.detail and flattened(decoded.detail, decoded.detail_alpha)
    return locate(grayscale(decoded), decoded.scale, detail)


def count_blocks(lines):
    """Each line's Pieces -> (them, all their digits' 8x8 counts stacked, line after line).
    A digit the search judged is fitted again only if its faded edges grew back onto it: it
    was judged on the line's core, and is read with them (`segmentation.regrown`)."""
    return lines, counts_of([digit.mask for pieces in lines for digit in pieces.digits],
                            lines[0].fitted if lines else None)


def piece_features(counts, pieces, height):
    """What the segmentation model reads of pieces of ink (Segments of a line `height` pixels
    tall, `counts` their 8x8 counts stacked): a row of SEGMENTER_FEATURES per piece."""
    return np.hstack([np.reshape(counts, (len(pieces), 64)),
                      [piece_geometry(piece, height) for piece in pieces],
                      stroke_crossings([piece.mask for piece in pieces])])


def counts_of(masks, fitted=None):
    """Digits' masks as the 8x8 counts the model reads, (n, 8, 8): fit_to_boxes ->
    block_counts, all the masks not fitted yet in one call.

    `fitted` ({id of a mask: (the mask, its counts)}, filled as it goes) remembers the masks
    already fitted while one image is read: a piece the search judged and then kept as it was
    (`segmentation.regrown` grew no edge back onto it) is fitted once (a fit costs 0.1-0.3
    ms). The mask is kept beside its counts, so that its id cannot be reused by another mask
    while the dict lives.
    """
    if fitted is None or not masks:
        return block_counts(fit_to_boxes(masks))
    new = [mask for mask in masks if fitted.get(id(mask), (None,))[0] is not mask]
    if new:
        for mask, counts in zip(new, block_counts(fit_to_boxes(new))):
            fitted[id(mask)] = (mask, counts)
    return np.stack([fitted[id(mask)][1] for mask in masks])
