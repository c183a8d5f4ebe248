"""A line of handwritten digits -> one ink mask per digit, left to right.

The line's ink is read once (`ink.line_regions`, at most DIGIT_SIDE pixels tall, one row of
writing); here its 8-connected pieces become digits:

    pieces -> merge the pieces of one digit (pieces stacked over each other: a 5's detached
              bar, a 4 or 7 in two strokes, a stroke broken by a faint pen)
           -> set aside dots and dashes (a decimal point, a hyphen between digit groups)
           -> search what may be touching digits for its best cuts: candidate cut paths
              (`cuts`), the pieces between them judged (one digit? which?), the best
              segmentation by dynamic programming over the paths (ink under a height wide:
              judged whole, and only tried in two)
           -> what is written between the digits (`separators`): a point on the baseline, a
              dash at mid-height, a space much wider than the line's other gaps

Pure functions over numpy arrays; the models are passed in (`judge`), so that segmentation
stays free of them and of the web.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digits.core.cuts import cut_paths, distinct_cuts, rising_drops
from digits.core.errors import TooManyDigits

MAX_DIGITS = 20  # the most digits read in one image (DIGITS_MAX_DIGITS' default)
# Pieces under 2 % of the largest piece's area are dust, unless as wide and as tall as a
# point (POINT_SIZE of the tallest piece's height): a decimal point beside a heavy digit is
# 1-2 % of its area (dev: points read in their place +2 or +3 of 106 in photos, on a canvas
# and on ruled paper, +1 on squared paper, every other mark and row alike).
SPECK_SHARE = 0.02
MERGE_OVERLAP = 0.5  # a piece whose columns lie this much inside another's belongs to it
SMALL_PIECE = 0.5  # a piece under half the tallest's height joins any digit it overlaps
MARK_HEIGHT = 0.35  # a piece this much shorter than the line is a dot or a dash
# A comma's tail takes it past MARK_HEIGHT. A piece at most COMMA_WIDTH of the line's height
# wide that starts below COMMA_TOP of it (from the digits' top), where no digit starts, is a
# mark too: a comma between two digits is read as their point (dev commas in their place
# 0.84-0.88 -> 0.92-0.95; at 0.5, a short 1 low in a line was taken for one).
COMMA_TOP, COMMA_WIDTH = 0.65, 0.35
DASH_ASPECT, DASH_LENGTH = 1.8, 0.2  # a dash: this many times wider than thick, and this long
# Where a mark between two digits is read: a dot whose middle is below POINT_LOW of the digits'
# height (from their top) sits on the baseline; a dash whose middle is within DASH_BAND is a
# hyphen. A gap wider than SPACE_GAP of the line's height and SPACE_USUAL times its usual gap
# (the median of the others) is a space between groups; a number needs three digits for that.
POINT_LOW, DASH_BAND = 0.6, (0.2, 0.8)
POINT_SIZE = 0.08  # a point is at least this share of the digits' height across (not dust)
SPACE_GAP, SPACE_USUAL = 0.7, 2.0
# A dash at mid-height before the first digit, no further from it than a gap that is not a
# space (SPACE_GAP), is the number's minus sign: "-12" (a value, not a stray stroke, as a point
# between digits is).
SIGN_GAP = SPACE_GAP
# Ink wider than SEARCH_WIDTH for its height may be touching digits: narrow ink (below) is
# tried in two, wider ink searched over all its candidate cuts. Alone on the page, the wider
# may be one digit drawn wide (a 7 or a 2): then a segmentation into several must score
# ALONE_MARGIN (log probability) above the whole, which keeps single digits read as several
# under 0.5 % (dev: 0.40 % at a margin of 3, 0.25 % at 4, touching numbers counted right
# alike). Past SEVERAL heights wide, ink is surely several digits.
SEARCH_WIDTH, SEVERAL, ALONE_MARGIN = 0.7, 2.0, 4.0
# Writers are consistent: where every other digit of a line stands apart from its neighbours
# and none is wider than NARROW heights, the one wide ink among them is more likely one digit
# drawn wide (a 7 with a long bar) than two that touch, and a segmentation into several must
# score PARTED_MARGIN above the whole. Dev, counted right on every kind: separated and tight
# +0.4 to +0.9 points, pages +0.8 to +2.5, touching alike (0 to +0.5). Chosen at 2 for a judge
# that read the counts and geometry alone, where 4 began to lose touching numbers; the judge
# that also counts strokes (CROSSING_LINES) cuts more readily, and at 2 lost separated and
# tight 0.5 and 0.9 points (a wide 6 read "07"); 4 wins back separated (mean 0.984 -> 0.983
# against the judge before at 2) and half of tight (0.981 -> 0.976), for one touching number
# of 1,200.
PARTED_MARGIN = 4.0
# Ink up to NARROW heights wide is mostly one digit, but may be two that touch (a 1 run into
# its neighbour, a pair written close): it is only ever cut in two, at one of its NARROW_CUTS
# cheapest paths, and the halves must beat the whole by NARROW_MARGIN. Without the margin,
# wide single digits of separated numbers were split (dev: separated counted right 0.5-1.7
# points lower). The wholes are judged first, a line's at once: as no piece scores above 0, a
# whole scoring over minus the margin cannot be beaten and is not cut at all, which spares
# most single digits the cost of cutting. Alone on the page, narrow ink is judged too and cut
# past ALONE_MARGIN, as wider ink alone is (a "68" written close is that narrow), unless the
# reader expects one digit (`one_digit`, /predict): 42 % of single digits are that narrow, and
# each would pay a judging (about 0.35 ms of a 3 ms read) for a cut /predict can only refuse.
NARROW, NARROW_MARGIN, NARROW_CUTS = 1.0, 2.0, 2
DIGIT_ASPECT = 0.62  # a typical digit's width over its height: the cut when no valley is seen
# The candidate cuts (cuts.cut_paths) at least CUT_SPACING of the height apart, CUTS_PER_DIGIT
# for each digit the width could hold, at most MOST_CUTS. A piece is the ink between any two of
# them at most WIDEST_PIECE heights apart (but for the whole), however many cuts lie between: a
# wide digit holds four to six gaps, and pieces of at most three gaps cut it into fragments
# (dev touching, counted right on average over the kinds: 0.738 -> 0.782, over-counts 94 -> 27
# of 1200). With pieces bound by width alone, cuts 0.15 apart instead of 0.2 read dev touching
# 0.782 -> 0.798 (39 numbers gained, 19 lost), separated and tight alike (one lost), for 31 %
# more pieces judged; 0.12 no better (0.800, 61 % more), 0.1 and 0.25 worse. (0.12 and 0.16
# were worse than 0.2 while pieces spanned at most three gaps: a wide digit held more.)
CUT_SPACING = 0.15
CUTS_PER_DIGIT, MOST_CUTS = 3, 40
WIDEST_PIECE = 1.2
# The most pieces the search judges in one image: enough for a touching number of eight
# digits with its drop-fall cuts (at 100, long numbers ran out of pieces: dev touching counted
# right 0.79-0.87, against 0.89-0.95 at 200). Past it, ink that is surely several digits is
# cut unjudged, so that a blob a worker would otherwise search through twenty digits' worth of
# cuts costs a bounded time.
SCORE_BUDGET = 200
# A digit parted on the line's core grows back through the line's ink at most EDGE_STEPS
# pixels (`regrown`): a faded edge is a pixel or two, a faint block of a drawn 8x8 image up to
# 8 at DIGIT_SIDE; the bound keeps a long faint scribble from costing a step per pixel.
EDGE_STEPS = 8
_EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)
# what the segmentation model says a piece is: one digit, a part of one, several digits
ONE, FRAGMENT, SEVERAL_DIGITS = PIECE_CLASSES = (0, 1, 2)
# Where stroke_crossings looks across a piece: rows and columns at these shares of its height
# and width. Fitting to optdigits' box squeezes ink of any width into 20 of 32 columns, so the
# counts alone show two touching digits much as one (a 68 as a 2); how many strokes a line
# across the piece meets is not squeezed. Dev touching numbers counted right, mean over the
# kinds: 0.802 -> 0.853 (held-out pieces of the model 0.80 -> 0.82; seeds 1 and 2 alike).
CROSSING_LINES = (0.2, 0.35, 0.5, 0.65, 0.8)
# what it reads of a piece: the 8x8 counts the digit model sees, then piece_geometry's four,
# then stroke_crossings' rows and columns
SEGMENTER_FEATURES = 64 + 4 + 2 * len(CROSSING_LINES)


@dataclass(frozen=True)
class Segment:
    """One digit of the line: its ink (a boolean mask cut to `box`), `box` (left, top,
    right, bottom) in pixels of the line's mask, and, when it was cut from touching ink, how
    many ink pixels the cuts on its left and right went through."""

    mask: np.ndarray
    box: tuple
    crossed: tuple = (0, 0)


@dataclass(frozen=True)
class Mark:
    """Ink that is not a digit: a `kind` ("dot" or "dash") and its box in the line's mask."""

    kind: str
    box: tuple


@dataclass(frozen=True)
class Separator:
    """What is written between two neighbouring digits: its `symbol` ("." a point, "-" a dash,
    " " a space), `after` (how many digits precede it; 0: a minus sign before the first) and
    its box in the line's mask (for a space, the gap)."""

    symbol: str
    after: int
    box: tuple


def segment(line, judge, max_digits=MAX_DIGITS, budget=None, one_digit=False, core=None):
    """The digits of a line mask (one row of writing, as `ink.line_regions` gives), left to
    right, and the dots and dashes set aside. Given the line's `core` (its strokes without
    their faded edges, `ink.Region.core`), the digits are parted on it and then read with the
    line's ink (`regrown`); the dots and dashes, and digits too faint to show in the core, are
    found on the line's ink as it is.

    `judge(pieces, height)` gives, for a list of Segments of a line `height` pixels tall, a
    log score of each being one digit; the search picks the cuts of touching digits by it.
    Raises TooManyDigits when it holds more than `max_digits` (checked before any piece is
    judged, so that a page of dust costs little). `budget` ([pieces left to judge],
    SCORE_BUDGET when None) is shared by the lines of one image. `one_digit`: the reader
    expects a single digit, and narrow ink alone on the line is that digit, unjudged.
    """
    digits, marks, height = _digits_and_marks(line if core is None else core)
    whole = []
    if core is not None:  # a faint point, or a faint digit, may not show in the core
        whole, marks, _ = _digits_and_marks(line)
    if not digits and not whole and not marks:
        return [], []
    _check_count(len(digits), max_digits)
    alone = len(digits) == 1
    budget = [SCORE_BUDGET] if budget is None else budget
    narrow = {} if alone and one_digit else _split_narrow(
        digits, height, judge, ALONE_MARGIN if alone else NARROW_MARGIN, budget)
    wide = [digit for digit in digits if _wide(digit, height)]
    margin = ALONE_MARGIN if alone else PARTED_MARGIN if len(wide) == 1 else 0.0
    cut = []
    for index, digit in enumerate(digits):
        # room for one more than allowed, so that a line over the limit is told so
        room = max_digits + 1 - len(cut) - (len(digits) - index - 1)
        if _narrow(digit, height):
            cut += narrow.get(index, [digit])
        else:
            cut += _split_wide(digit, height, judge, margin, room, budget)
        _check_count(len(cut), max_digits)
    if core is not None:
        digits = regrown(cut, line, whole)
        _check_count(len(digits), max_digits)
    else:
        digits = cut
    return sorted(digits, key=lambda d: d.box[0]), sorted(marks, key=lambda m: m.box[0])


def regrown(digits, mask, whole=()):
    """The digits segmented on a line's core (its strokes without their faded edges, as
    `ink.Region.core`) given their edges back from the line's full `mask`: each digit grows
    through the mask from its core a pixel at a time, all at once, so that ink run together
    only by faded edges is parted where the growths meet (a pixel both reach at once goes to
    the later). Ink of the mask no digit's core reaches (a mark, dust) is left out; of
    `whole`, the digits found on the mask itself, those no digit of the core reaches (a digit
    drawn fainter than its neighbours, whose core is lost) are added as they are. A digit
    that grew nothing back is returned itself."""
    owner = np.zeros(mask.shape, dtype=np.int32)
    for number, digit in enumerate(digits, start=1):
        left, top, right, bottom = digit.box
        owner[top:bottom, left:right][digit.mask] = number
    for _ in range(EDGE_STEPS):
        grown = _grown(owner)
        reached = mask & (owner == 0) & (grown > 0)
        if not reached.any():
            break
        owner[reached] = grown[reached]
    found = []
    for number, digit in enumerate(digits, start=1):
        grown = _cropped(owner == number, 0, 0, digit.crossed)
        # nothing grown back (ink without faded edges): the digit as it was judged, whose
        # counts the reader then need not fit again (`reading.counts_of`)
        same = grown.box == digit.box and np.array_equal(grown.mask, digit.mask)
        found.append(digit if same else grown)
    return found + [digit for digit in whole if not _owned(owner, digit)]


def _owned(owner, digit):
    """Whether any of a Segment's ink is some digit's in `owner` (a label per pixel)."""
    left, top, right, bottom = digit.box
    return bool(owner[top:bottom, left:right][digit.mask].any())


def _grown(owner):
    """Each pixel's largest label among itself and its eight neighbours (0 beyond the edge).
    (`ink._widened` grows a mask so; segmentation does not call back into ink, whose work is
    done before it: test_an_upload_goes_through_each_core_module_once_in_the_pipeline_s_order.)"""
    padded = np.pad(owner, 1)
    rows, cols = owner.shape
    grown = owner.copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(grown, padded[dy:dy + rows, dx:dx + cols], out=grown)
    return grown


def candidate_pieces(line):
    """Every piece the search could judge in a line mask between its shortest cut paths:
    (Segment, the line's height) for the candidate pieces of each digit more than NARROW
    heights wide. What the segmentation model is trained on, so that it learns from the
    pieces it will be asked about. (Narrow ink, its whole and its halves, is judged too but
    left out: trained on it as well, the model took more single digits of separated numbers
    for two, dev: separated counted right 0.4-1.2 points lower, touching no better. So are the
    pieces the drop-fall cuts add, twice as many: trained on them too, dev separated and tight
    counted right up to 0.8 points lower, marks and pages lower, touching no better.)"""
    digits, _, height = _digits_and_marks(line)
    for digit in digits:
        if _wide(digit, height):
            for piece in _candidates(digit, height, drops=False)[1].values():
                yield piece, height


def piece_geometry(piece, height):
    """What a piece's shape says of how many digits it holds, for a line `height` pixels tall:
    its width and its height against the line's, and the ink its cuts went through."""
    return np.array([(piece.box[2] - piece.box[0]) / height,
                     (piece.box[3] - piece.box[1]) / height,
                     piece.crossed[0] / height, piece.crossed[1] / height])


def stroke_crossings(masks):
    """How many strokes of each piece's ink (boolean masks, each cut to its piece) each row,
    then each column, at CROSSING_LINES of its height and width goes through: runs of ink
    along it. An (n, 2 * len(CROSSING_LINES)) integer array.

    The lines of all the pieces are laid in one array, each after a column of paper, so that
    one comparison counts every run's start for all of them."""
    count = len(CROSSING_LINES)
    longest = max((max(mask.shape) for mask in masks), default=0)
    lines = np.zeros((len(masks), 2 * count, longest + 1), dtype=bool)
    for index, mask in enumerate(masks):
        height, width = mask.shape
        lines[index, :count, 1:width + 1] = mask[_crossing_indices(height)]
        lines[index, count:, 1:height + 1] = mask[:, _crossing_indices(width)].T
    return np.count_nonzero(lines[..., 1:] > lines[..., :-1], axis=2)


def _crossing_indices(length):
    """The rows (or columns) at CROSSING_LINES of `length`."""
    return [min(length - 1, int(share * length)) for share in CROSSING_LINES]


def _digits_and_marks(line):
    """A line mask's ink grouped: its digit-sized Segments and its Marks (unsorted), and the
    height of its digits."""
    labels, count = ndimage.label(line.view(np.uint8), _EIGHT_NEIGHBOURS)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    slices = ndimage.find_objects(labels)
    if count == 0:
        return [], [], 0
    tallest = _tallest(slices)
    pieces = [(label, slices[label - 1]) for label in range(1, count + 1)
              if areas[label] >= SPECK_SHARE * areas[1:].max()
              or _shorter_side(slices[label - 1]) >= POINT_SIZE * tallest]
    groups = _merge_stacked(pieces, areas, _tallest([piece for _, piece in pieces]))
    boxes = [_union_box(members) for members in groups]
    height = _line_height(boxes)
    top = min(box[1] for box in boxes if box[3] - box[1] >= MARK_HEIGHT * height)
    digits, marks = [], []
    for members, box in zip(groups, boxes):
        low = box[1] - top >= COMMA_TOP * height and box[2] - box[0] <= COMMA_WIDTH * height
        if box[3] - box[1] < MARK_HEIGHT * height or low:
            wide, thick = box[2] - box[0], box[3] - box[1]
            dash = wide >= DASH_ASPECT * thick and wide >= DASH_LENGTH * height
            marks.append(Mark("dash" if dash else "dot", box))
        else:
            own = np.isin(labels[box[1]:box[3], box[0]:box[2]], [label for label, _ in members])
            digits.append(Segment(own, box))
    return digits, marks, height


def separators(digits, marks):
    """What is written between the digits (Segments, left to right): a list of Separators,
    and the marks (left to right) that are not one of them, which a reader leaves out.

    A dot in a gap, on the digits' baseline, is a point; a dash in a gap, about mid-height, is
    a dash; a gap without either that is much wider than the line's usual gap is a space; a
    dash about mid-height just before the first digit (SIGN_GAP) is a minus sign, a
    Separator("-") after no digit. A mark elsewhere (above the digits, after the last, a dot
    before the first) is not read.
    """
    if not digits:
        return [], list(marks)
    top = float(np.median([digit.box[1] for digit in digits]))
    height = max(1.0, float(np.median([digit.box[3] for digit in digits])) - top)
    found, left_over, signs = {}, [], []
    for mark in marks:
        middle_x, middle_y = (mark.box[0] + mark.box[2]) / 2, (mark.box[1] + mark.box[3]) / 2
        after = next((index + 1 for index in range(len(digits) - 1)
                      if digits[index].box[2] - 0.05 * height <= middle_x
                      <= digits[index + 1].box[0] + 0.05 * height), None)
        low = (middle_y - top) / height
        point = min(mark.box[2] - mark.box[0], mark.box[3] - mark.box[1]) >= POINT_SIZE * height
        symbol = ("." if mark.kind == "dot" and point and low >= POINT_LOW else
                  "-" if mark.kind == "dash" and DASH_BAND[0] <= low <= DASH_BAND[1] else None)
        if (after is None and symbol == "-" and middle_x < digits[0].box[0]
                and digits[0].box[0] - mark.box[2] <= SIGN_GAP * height):
            signs.append(mark)
        elif after is None or symbol is None or after in found:
            left_over.append(mark)
        else:
            found[after] = Separator(symbol, after, mark.box)
    if signs:  # of several dashes before the first digit, the nearest is its sign
        sign = max(signs, key=lambda mark: mark.box[2])
        found[0] = Separator("-", 0, sign.box)
        left_over = sorted(left_over + [mark for mark in signs if mark is not sign],
                           key=lambda mark: mark.box[0])
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


def _shorter_side(piece):
    """The shorter side of a piece's box (its slices), in pixels."""
    return min(piece[0].stop - piece[0].start, piece[1].stop - piece[1].start)


def _tallest(slices):
    """The height of the tallest of some pieces (their slices)."""
    return max(rows.stop - rows.start for rows, _ in slices)


def _line_height(boxes):
    """The height of the line's digits: the tallest group's, from the groups' boxes (marks are
    far shorter)."""
    return max(box[3] - box[1] for box in boxes)


def _union_box(members):
    """(left, top, right, bottom) around the slices of a group's pieces."""
    return (min(s[1].start for _, s in members), min(s[0].start for _, s in members),
            max(s[1].stop for _, s in members), max(s[0].stop for _, s in members))


def _narrow(digit, height):
    """Whether a segment is wide enough to be searched but at most NARROW heights wide."""
    return SEARCH_WIDTH * height < digit.box[2] - digit.box[0] <= NARROW * height


def _wide(digit, height):
    """Whether a segment is more than NARROW heights wide: searched over all its cuts."""
    return digit.box[2] - digit.box[0] > NARROW * height


def _split_narrow(digits, height, judge, margin, budget):
    """The narrow segments of a line (`_narrow`) that are two digits touching: {index in
    `digits`: [left digit, right digit]}.

    Each is judged whole, all in one call; where the whole could be beaten by `margin`
    (NARROW_MARGIN, or ALONE_MARGIN for ink alone on the line), it is tried cut in two at each
    of its NARROW_CUTS cheapest paths, all of the line's halves judged in a second call, and
    cut where the halves' scores beat the whole's by the margin. Each piece judged spends one
    of `budget`; when it is short of the wholes, or of the halves they could have, none are
    judged (nor cut paths found), and the narrow ink stays whole.
    """
    narrow = [index for index, digit in enumerate(digits) if _narrow(digit, height)]
    if not narrow or len(narrow) > budget[0]:
        return {}
    budget[0] -= len(narrow)
    wholes = dict(zip(narrow, judge([digits[index] for index in narrow], height)))
    # a piece scores at most 0 (log probabilities), so two halves reach at most 0
    unsure = [index for index, score in wholes.items() if score + margin < 0.0]
    if not unsure or 2 * NARROW_CUTS * len(unsure) > budget[0]:
        return {}
    halves = {index: _halves(digits[index], height) for index in unsure}
    pieces = [piece for pairs in halves.values() for pair in pairs for piece in pair]
    if not pieces:
        return {}
    budget[0] -= len(pieces)
    scores = iter(judge(pieces, height))
    split = {}
    for index, pairs in halves.items():
        best, best_pair = None, None
        for pair in pairs:
            score = next(scores) + next(scores)
            if best is None or score > best:
                best, best_pair = score, pair
        if best is not None and best > wholes[index] + margin:
            split[index] = list(best_pair)
    return split


def _halves(digit, height):
    """A narrow segment cut in two at each of its NARROW_CUTS cheapest cut paths: [(left,
    right)], the pairs whose both halves hold ink."""
    rows, width = digit.mask.shape
    edges = [np.zeros(rows, dtype=np.int64), None, np.full(rows, width, dtype=np.int64)]
    pairs = []
    for path in cut_paths(digit.mask, CUT_SPACING * height, NARROW_CUTS):
        edges[1] = path
        crossed = _crossed(digit, edges)[1]
        left = _between(digit, edges[0], path, (0, crossed))
        right = _between(digit, path, edges[2], (crossed, 0))
        if left is not None and right is not None:
            pairs.append((left, right))
    return pairs


def _split_wide(digit, height, judge, margin, most, budget):
    """A segment that may hold touching digits -> its digits: the segmentation along candidate
    cut paths (`cuts.cut_paths`) whose pieces `judge` likes best, found by dynamic programming
    over the paths. A segmentation into several must beat the whole by `margin` (ALONE_MARGIN
    when the segment is the only digit-sized ink of the line, PARTED_MARGIN when the line's
    other digits stand apart), unless the ink is more than SEVERAL heights wide, which is never
    read as one digit. `budget` ([pieces left to judge]) is spent on the way; once it is short,
    ink surely several digits wide is cut at its cheapest paths about a digit apart, unjudged,
    and the rest left whole."""
    width = digit.box[2] - digit.box[0]
    if not _wide(digit, height) or most < 2:
        return [digit]
    edges, pieces = _candidates(digit, height)
    if len(pieces) > budget[0]:
        if width <= SEVERAL * height:
            return [digit]
        return _cut_unjudged(digit, edges, height)
    budget[0] -= len(pieces)
    spans = list(pieces)
    scores = dict(zip(spans, judge([pieces[span] for span in spans], height)))
    best = {0: (0.0, [])}  # edge -> (score of the best pieces up to it, those pieces' spans)
    for j in range(1, len(edges)):
        options = [(best[i][0] + scores[(i, j)], best[i][1] + [(i, j)])
                   for i in range(j) if i in best and (i, j) in scores]
        if options:
            best[j] = max(options, key=lambda option: option[0])
    whole = (0, len(edges) - 1)
    total, chosen = best.get(len(edges) - 1, (scores[whole], [whole]))
    several = width > SEVERAL * height  # surely several digits: never answered whole
    if len(chosen) == 1:
        return _cut_unjudged(digit, edges, height) if several else [digit]
    if not several and total < scores[whole] + margin:
        return [digit]
    return [pieces[span] for span in chosen]


def candidate_paths(mask, height, drops=True):
    """The cut paths the search tries through ink `mask` of a line whose digits are `height`
    pixels tall, left to right: the shortest paths (`cuts.cut_paths`), CUTS_PER_DIGIT for each
    digit's width the ink could hold, at most MOST_CUTS, CUT_SPACING of the height apart; and,
    with `drops`, beside each the drop-fall rising from its bottom end (`cuts.rising_drops`)
    where it parts the ink differently (`cuts.distinct_cuts`)."""
    width = mask.shape[1]
    paths = cut_paths(mask, CUT_SPACING * height,
                      min(MOST_CUTS, round(CUTS_PER_DIGIT * width / (DIGIT_ASPECT * height))))
    if not drops:
        return paths
    return distinct_cuts(mask, paths + rising_drops(mask, [path[-1] for path in paths]))


def _candidates(digit, height, drops=True):
    """The candidate cut paths through a segment, its two edges included (left to right), and
    the pieces between them worth judging: {(i, j): Segment between edge i and edge j}.
    `drops`: as for `candidate_paths`."""
    paths = candidate_paths(digit.mask, height, drops)
    rows, width = digit.mask.shape
    edges = [np.zeros(rows, dtype=np.int64), *paths, np.full(rows, width, dtype=np.int64)]
    last = len(edges) - 1
    stacked = np.stack(edges)
    spans = [(i, int(j)) for i in range(last)
             for j in i + 1 + np.flatnonzero(np.median(stacked[i + 1:] - stacked[i], axis=1)
                                             <= WIDEST_PIECE * height)]
    if (0, last) not in spans:
        spans.append((0, last))
    crossed = _crossed(digit, edges)
    pieces = {span: _between(digit, edges[span[0]], edges[span[1]],
                             (crossed[span[0]], crossed[span[1]])) for span in spans}
    return edges, {span: piece for span, piece in pieces.items() if piece is not None}


def _crossed(digit, edges):
    """The ink pixels each of a segment's cut paths goes through (0 for its two edges)."""
    rows_at, width = np.arange(digit.mask.shape[0]), digit.mask.shape[1]
    crossed = [int(digit.mask[rows_at, np.minimum(edge, width - 1)].sum()) for edge in edges]
    crossed[0] = crossed[-1] = 0
    return crossed


def _cut_unjudged(digit, edges, height):
    """A segment cut, without judging its pieces, at the paths nearest to every
    DIGIT_ASPECT of the height from its left."""
    step = DIGIT_ASPECT * height
    middles = [float(np.median(edge)) for edge in edges]
    chosen, last = [0], 0
    for index in range(1, len(edges) - 1):
        if middles[index] - middles[last] >= step:
            chosen.append(index)
            last = index
    chosen.append(len(edges) - 1)
    crossed = _crossed(digit, edges)
    pieces = [_between(digit, edges[i], edges[j], (crossed[i], crossed[j]))
              for i, j in zip(chosen, chosen[1:])]
    return [piece for piece in pieces if piece is not None]


def _between(digit, left, right, crossed=(0, 0)):
    """The ink of a segment between two cut paths (a column per row; `left` inclusive), cut
    to its ink: a Segment in the line's frame (`crossed`: the ink pixels on each path), or
    None when there is none."""
    columns = np.arange(digit.mask.shape[1])
    mask = digit.mask & (columns >= left[:, None]) & (columns < right[:, None])
    return _cropped(mask, digit.box[0], digit.box[1], crossed)


def _cropped(mask, left, top, crossed=(0, 0)):
    """The ink of `mask`, whose corner is (`left`, `top`) in the line's mask, cut to its ink: a
    Segment in the line's frame (`crossed`: the ink pixels its cuts went through), or None when
    it holds none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    left_x, top_y = left + cols[0], top + rows[0]
    return Segment(mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1],
                   (left_x, top_y, left_x + cols[-1] - cols[0] + 1,
                    top_y + rows[-1] - rows[0] + 1), crossed)
