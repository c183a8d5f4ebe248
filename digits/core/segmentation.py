"""A line of handwritten digits -> one ink mask per digit, left to right.

The line's ink is read once (`ink.line_region`, at most DIGIT_SIDE pixels tall); here
its 8-connected pieces become digits:

    pieces -> merge the pieces of one digit (pieces stacked over each other: a 5's detached
              bar, a 4 or 7 in two strokes, a stroke broken by a faint pen)
           -> set aside dots and dashes (a decimal point, a hyphen between digit groups)
           -> split what is too wide for one digit (touching digits), where the classifier is
              surest of both sides (recognition-based segmentation)
           -> what is written between the digits (`separators`): a point on the baseline, a
              dash at mid-height, a space much wider than the line's other gaps

Pure functions over numpy arrays; the classifier is passed in (`score`), so that the core
stays free of the model and the web.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digits.core.errors import SeveralLines, TooManyDigits

MAX_DIGITS = 20  # the most digits read in one line (DIGITS_MAX_DIGITS' default)
SPECK_SHARE = 0.02  # pieces under 2 % of the largest piece's area are dust
MERGE_OVERLAP = 0.5  # a piece whose columns lie this much inside another's belongs to it
SMALL_PIECE = 0.5  # a piece under half the tallest's height joins any digit it overlaps
MARK_HEIGHT = 0.35  # a piece this much shorter than the line is a dot or a dash
DASH_ASPECT, DASH_LENGTH = 1.8, 0.2  # a dash: this many times wider than thick, and this long
# Where a mark between two digits is read: a dot whose middle is below POINT_LOW of the digits'
# height (from their top) sits on the baseline; a dash whose middle is within DASH_BAND is a
# hyphen. A gap wider than SPACE_GAP of the line's height and SPACE_USUAL times its usual gap
# (the median of the others) is a space between groups; a number needs three digits for that.
POINT_LOW, DASH_BAND = 0.6, (0.2, 0.8)
POINT_SIZE = 0.08  # a point is at least this share of the digits' height across (not dust)
SPACE_GAP, SPACE_USUAL = 0.7, 2.0
# When is ink wide enough to be cut into touching digits? Wider than WIDE for its height, if
# the classifier is surer of the two halves than of the whole, and always beyond SEVERAL.
# Alone on the page it may be one digit drawn wide (a 7 or a 2, its halves about as sure as the
# whole): then the halves must be ALONE_MARGIN (log probability) surer. Tuned on the dev split
# (evaluate.py --split dev): a narrower WIDE cut more touching digits but also more wide digits
# of separated numbers; ALONE_MARGIN keeps single digits read as several under 0.5 %.
WIDE, SEVERAL, ALONE_MARGIN = 1.25, 2.0, 0.5
DIGIT_ASPECT = 0.62  # a typical digit's width over its height: the cut when no valley is seen
LINE_SHARE = 0.4  # two bands of ink, each at least this tall against the tallest: two lines
LINE_GAP = 0.25  # if the empty rows between them are at least this share of the tallest
CUT_CANDIDATES = 6  # projection valleys tried for each cut
# The most digit masks the classifier scores to place the cuts of one line (13 a cut: six
# candidates' two sides and the whole): enough for a touching number of eight digits. Past
# it, ink that is surely several digits is cut at its deepest valley unscored, so that a blob
# a worker would otherwise cut twenty times, each cut scored, costs a bounded time.
SCORE_BUDGET = 100
NARROWEST, WIDEST = 0.15, 1.0  # a digit's width for its height, from a plain 1 to a wide 0
_EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class Segment:
    """One digit of the line: its ink (a boolean mask cut to `box`), and `box` (left, top,
    right, bottom) in pixels of the line's mask."""

    mask: np.ndarray
    box: tuple


@dataclass(frozen=True)
class Mark:
    """Ink that is not a digit: a `kind` ("dot" or "dash") and its box in the line's mask."""

    kind: str
    box: tuple


@dataclass(frozen=True)
class Separator:
    """What is written between two neighbouring digits: its `symbol` ("." a point, "-" a dash,
    " " a space), `after` (how many digits precede it) and its box in the line's mask (for a
    space, the gap)."""

    symbol: str
    after: int
    box: tuple


def segment(line, score, max_digits=MAX_DIGITS):
    """The digits of a line mask, left to right, and the dots and dashes set aside.

    `score(masks)` gives, for a list of digit masks, how sure the classifier is of each
    (its top probability); it picks where touching digits are cut. Raises SeveralLines when
    the ink lies in two or more rows of digits, TooManyDigits when it holds more than
    `max_digits` (checked before any cut is scored, so that a page of dust costs little).
    """
    labels, count = ndimage.label(line.view(np.uint8), _EIGHT_NEIGHBOURS)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    slices = ndimage.find_objects(labels)
    if count == 0:
        return [], []
    pieces = [(label, slices[label - 1]) for label in range(1, count + 1)
              if areas[label] >= SPECK_SHARE * areas[1:].max()]
    _check_one_line(line, pieces, areas)
    groups = _merge_stacked(pieces, areas, _tallest(pieces))
    height = _line_height(groups)
    digits, marks = [], []
    for members in groups:
        box = _union_box(members)
        if box[3] - box[1] < MARK_HEIGHT * height:
            wide, thick = box[2] - box[0], box[3] - box[1]
            dash = wide >= DASH_ASPECT * thick and wide >= DASH_LENGTH * height
            marks.append(Mark("dash" if dash else "dot", box))
        else:
            own = np.isin(labels[box[1]:box[3], box[0]:box[2]], [label for label, _ in members])
            digits.append(Segment(own, box))
    _check_count(len(digits), max_digits)
    alone = len(digits) == 1
    budget = [SCORE_BUDGET]  # masks the classifier may still score for this line
    cut = []
    for index, digit in enumerate(digits):
        # room for one more than allowed, so that a line over the limit is told so
        room = max_digits + 1 - len(cut) - (len(digits) - index - 1)
        cut += _split_wide(digit, height, score, alone, room, budget)
        _check_count(len(cut), max_digits)
    digits = cut
    return sorted(digits, key=lambda d: d.box[0]), sorted(marks, key=lambda m: m.box[0])


def separators(digits, marks):
    """What is written between the digits (Segments, left to right): a list of Separators,
    and the marks (left to right) that are not one of them, which a reader leaves out.

    A dot in a gap, on the digits' baseline, is a point; a dash in a gap, about mid-height, is
    a dash; a gap without either that is much wider than the line's usual gap is a space. A
    mark elsewhere (above the digits, after the last) is not read.
    """
    if len(digits) < 2:
        return [], list(marks)
    top = float(np.median([digit.box[1] for digit in digits]))
    height = max(1.0, float(np.median([digit.box[3] for digit in digits])) - top)
    found, left_over = {}, []
    for mark in marks:
        middle_x, middle_y = (mark.box[0] + mark.box[2]) / 2, (mark.box[1] + mark.box[3]) / 2
        after = next((index + 1 for index in range(len(digits) - 1)
                      if digits[index].box[2] - 0.05 * height <= middle_x
                      <= digits[index + 1].box[0] + 0.05 * height), None)
        low = (middle_y - top) / height
        point = min(mark.box[2] - mark.box[0], mark.box[3] - mark.box[1]) >= POINT_SIZE * height
        symbol = ("." if mark.kind == "dot" and point and low >= POINT_LOW else
                  "-" if mark.kind == "dash" and DASH_BAND[0] <= low <= DASH_BAND[1] else None)
        if after is None or symbol is None or after in found:
            left_over.append(mark)
        else:
            found[after] = Separator(symbol, after, mark.box)
    gaps = {after: digits[after].box[0] - digits[after - 1].box[2]
            for after in range(1, len(digits)) if after not in found}
    if len(digits) >= 3 and len(gaps) >= 2:
        for after, gap in gaps.items():
            others = [other for index, other in gaps.items() if index != after]
            usual = max(float(np.median(others)), 0.05 * height)
            if gap > SPACE_GAP * height and gap > SPACE_USUAL * usual:
                found[after] = Separator(" ", after, (digits[after - 1].box[2], round(top),
                                                      digits[after].box[0],
                                                      round(top + height)))
    return [found[after] for after in sorted(found)], left_over


def _check_one_line(line, pieces, areas):
    """Raise SeveralLines when empty rows cut the ink into bands, two or more of them
    line-sized, and one of those holds digits side by side.

    A gap narrower than LINE_GAP of the tallest band is a stroke broken by a thin pen, not
    the space between two lines: the bands on either side count as one. Bands that each hold
    one digit's worth of ink are one digit broken across (a 0 or 8 with faint sides).
    """
    rows = line.any(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rows.view(np.int8), [0]])))
    starts, stops = edges[::2], edges[1::2]
    if starts.size < 2:
        return
    tallest = (stops - starts).max()
    apart = starts[1:] - stops[:-1] >= LINE_GAP * tallest
    starts = np.concatenate([starts[:1], starts[1:][apart]])
    stops = np.concatenate([stops[:-1][apart], stops[-1:]])
    bands = [(start, stop) for start, stop in zip(starts, stops)
             if stop - start >= LINE_SHARE * (stops - starts).max()]
    if len(bands) < 2:
        return
    for start, stop in bands:
        inside = [(label, piece) for label, piece in pieces
                  if start <= piece[0].start and piece[0].stop <= stop]
        if inside and len(_merge_stacked(inside, areas, _tallest(inside))) >= 2:
            raise SeveralLines(len(bands))


def _check_count(count, max_digits):
    """Raise TooManyDigits when `count` digits are more than `max_digits`."""
    if count > max_digits:
        raise TooManyDigits(max_digits)


def _merge_stacked(pieces, areas, tallest):
    """Group pieces whose columns overlap (the parts of one digit), largest pieces first: a
    digit-sized piece joins a group it half lies over; a small one (a bar, a broken-off bit)
    joins the group it overlaps most, if any."""
    groups = []
    for label, piece in sorted(pieces, key=lambda p: -areas[p[0]]):
        left, right = piece[1].start, piece[1].stop
        small = piece[0].stop - piece[0].start < SMALL_PIECE * tallest
        best, most = None, 0
        for members in groups:
            g_left, g_right = _union_box(members)[0::2]
            overlap = min(right, g_right) - max(left, g_left)
            needed = 1 if small else MERGE_OVERLAP * min(right - left, g_right - g_left)
            if overlap >= needed and overlap > most:
                best, most = members, overlap
        if best is None:
            groups.append([(label, piece)])
        else:
            best.append((label, piece))
    return groups


def _tallest(pieces):
    """The height of the tallest piece."""
    return max(piece[0].stop - piece[0].start for _, piece in pieces)


def _line_height(groups):
    """The height of the line's digits: the tallest group's (marks are far shorter)."""
    return max(box[3] - box[1] for box in map(_union_box, groups))


def _union_box(members):
    """(left, top, right, bottom) around the slices of a group's pieces."""
    return (min(s[1].start for _, s in members), min(s[0].start for _, s in members),
            max(s[1].stop for _, s in members), max(s[0].stop for _, s in members))


def _split_wide(digit, height, score, alone, most, budget):
    """A segment as wide as several digits cut into at most `most` of them, where `score`
    likes it most; `alone` when it is the only digit-sized ink of the line. `budget` ([masks
    left to score]) is spent on the way; once it is short, ink surely several digits wide is
    cut at its deepest valley and the rest left whole."""
    width = digit.box[2] - digit.box[0]
    if width <= WIDE * height or most < 2:
        return [digit]
    surely_several = width > SEVERAL * height
    # where the first digit may end: from a narrow 1 to a wide 0; valleys of the column
    # profile (fewest ink pixels, a stroke's crossing) are the cuts worth trying
    columns = np.convolve(digit.mask.sum(axis=0), np.ones(3), mode="same")
    first, last = max(1, round(NARROWEST * height)), min(width - 1, round(WIDEST * height))
    valleys = [x for x in range(first, last)
               if columns[x] <= columns[x - 1] and columns[x] <= columns[x + 1]]
    candidates = sorted(sorted(valleys, key=lambda x: columns[x])[:CUT_CANDIDATES]) or [
        round(DIGIT_ASPECT * height)]
    lefts = [_part(digit, 0, cut) for cut in candidates]
    rights = [_part(digit, cut, width) for cut in candidates]
    usable = [i for i in range(len(candidates)) if lefts[i] and rights[i]]
    if not usable:
        return [digit]
    if budget[0] < 2 * len(usable) + 1:
        if not surely_several:
            return [digit]
        chosen = min(usable, key=lambda i: columns[candidates[i]])
        return [lefts[chosen], *_split_wide(rights[chosen], height, score, False, most - 1,
                                            budget)]
    budget[0] -= 2 * len(usable) + 1
    sure = np.log(score([lefts[i].mask for i in usable] + [rights[i].mask for i in usable]
                        + [digit.mask]))
    halves = sure[:len(usable)] + sure[len(usable):-1]
    best = int(np.argmax(halves))
    # a wide digit (a 0 or 2 with a loop, a long-tailed 4) stays whole unless cutting it
    # gives two digits the classifier is surer of than of the whole
    if not surely_several and halves[best] < sure[-1] + (ALONE_MARGIN if alone else 0.0):
        return [digit]
    chosen = usable[best]
    return [lefts[chosen], *_split_wide(rights[chosen], height, score, False, most - 1,
                                        budget)]


def _part(digit, start, stop):
    """The columns start..stop of a segment, cut to their ink (None when there is none)."""
    mask = digit.mask[:, start:stop]
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    left, top = digit.box[0] + start + cols[0], digit.box[1] + rows[0]
    return Segment(mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1],
                   (left, top, left + cols[-1] - cols[0] + 1, top + rows[-1] - rows[0] + 1))
