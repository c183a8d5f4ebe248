"""Where the digits are on a page: the paper, the ink, its blobs and the line they make.

    grayscale -> small_copy -> paper_model -> ink_levels -> remove_ruling -> find_components
              -> line_regions (the components grouped into lines, top to bottom; each line's
                 ink read again at the resolution its digits need)

The ink is located once on a small copy of the page (at most LOCATE_SIDE pixels a side), or,
where the writing is small on it, on a finer copy (FINE_BELOW); only each line's own region is
then read again from the grey page, at most DIGIT_SIDE pixels tall.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

from digits.core.errors import NoDigitFound

LOCATE_SIDE = 64  # the ink is located on a copy of the page at most this large
DIGIT_SIDE = 64  # the line's region is read at most this tall: twice optdigits' 32x32 box
MARK_SIDE = 0.25  # a blob beside the digits this share of the line's height tall may be a mark
DIGIT_APART = 0.5  # and one at least this share of it tall, a digit the small copy lost
# A mark may also lie before the line's first digit, ending at most SIGN_REACH of the line's
# height before it, when it is SIGN_ASPECT times as wide as it is tall: a minus sign, which the
# small copy may lose as it loses a point (dust there, a speck as tall as it is wide, stays
# out). The segmentation reads the sign within the same reach (SIGN_GAP) and shape (a dash,
# DASH_ASPECT); ink works before it and does not import it.
SIGN_REACH, SIGN_ASPECT = 0.7, 1.8
LINE_REACH = 1.0  # a line's ink is looked for this many times its height beyond its ends
MIN_CONTRAST = 0.15  # ink must differ from the paper by this much (0..1) to count as a digit
# A pixel is ink over INK_LEVEL of the strong strokes' level (their 90th percentile). A stroke's
# edge fades over a pixel or two (blur, JPEG, a scaled or anti-aliased pen), and where two
# strokes nearly meet, their faded edges run them together at that level. A line's region
# also keeps its `core`, the ink over CORE_LEVEL: the strokes without those edges, on which
# the segmentation parts the digits before reading each with its edges back
# (`segmentation.regrown`). Dev touching numbers counted right (scan / photo / canvas / ruled
# / squared) .887/.812/.879/.887/.863 -> .925/.867/.917/.942/.912; separated and tight within
# two numbers of 240 either way, pages, marks and single digits alike. At 0.6 photos gained
# more (.892) but the thin strokes of small writing broke (photo pages 0.958 -> 0.933); read
# on the core alone (at 0.6), digits lost their edges (load_digits drawn as uploads 0.978 ->
# 0.947).
INK_LEVEL, CORE_LEVEL = 0.5, 0.55
LINE_SPAN = 0.6  # a straight run this long (fraction of the side) is ruling, not a stroke
# Writing whose tallest blob on the small copy is under FINE_BELOW pixels (a page of lines or a
# number far off in a photo: its digits 3-6 pixels tall there, a faint one a pixel or none) is
# located again on a finer copy of the page, on which its digits are about FINE_DIGIT pixels
# tall. Dev split, photo pages of 2-5 lines: counted right 0.842 -> 0.942 (whole digits and
# lines were lost or run together); measured in docs/reading-numbers.md.
FINE_BELOW, FINE_DIGIT = 8, 10
RULING_WIDTH = 2  # ruled lines are at most this thick (pixels) on the small copy
RULING_SPAN = LOCATE_SIDE // 2  # ruling is looked for only along sides at least this long
SPECK_AREA = 0.05  # ink blobs under 5 % of the largest blob are dust
# Rules the small copy is too coarse to show (a pale grid of squared paper) are removed from a
# line's region: pixels thinner across than RULE_THIN of its strokes' mean width, in a row
# whose thin pixels span RULE_ROW of the region's width, or a column whose span RULE_COLUMN of
# its height and that has ink at its top and bottom (a digit's thin stroke ends inside the
# region; a rule crosses it). Dev squared paper: tight counted right 0.950 -> 0.971, marks in
# place 0.906 / 0.896 / 0.915 -> 0.934 / 0.953 / 0.953; the other kinds' rows unchanged.
RULE_THIN, RULE_ROW, RULE_COLUMN = 0.5, 0.45, 0.5
# A pale rule's ends may be lost to the ink threshold (it starts a few rows down, or in dashes),
# or a digit may cover most of it. Columns of thin ink that span RULE_COLUMN and fall on one
# lattice, at least GRID_RULES of them within GRID_SLACK pixels of it and at least GRID_PERIOD
# of the height apart, are a grid: its every column goes, whether or not it shows whole (a
# digit's thin stroke falls between them). Dev squared paper counted right: tight 0.963 ->
# 0.975, separated 0.975 -> 0.979, touching and the other kinds alike (they show no grid).
GRID_RULES, GRID_SLACK, GRID_PERIOD = 3, 2.0, 0.25
LINE_SPECK = 2  # small-copy pixels: a blob beside the line larger than this may be a digit
# Rows of ink apart by empty rows are lines, unless the gap is under LINE_GAP of the tallest
# band (a stroke broken by a faint pen, a 5's bar); a band under LINE_SHARE of the tallest (a
# dash or a dot alone in its rows, a stray mark) belongs to the nearest line.
LINE_GAP, LINE_SHARE = 0.25, 0.4
_EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class Paper:
    """How ink stands out on this page: the paper's grey as a plane over the page
    (level + slope_x * u + slope_y * v, u and v from 0 to 1 across it) and the ink's polarity
    (+1 darker than the paper, -1 lighter)."""

    plane: tuple
    polarity: int

    def ink(self, grey, box=None, page=None):
        """Ink strength 0..255 (paper 0) of a grey image that shows `box` (left, top, right,
        bottom, in pixels of a `page`-sized image; the whole page when None)."""
        return np.maximum(self.polarity * self.darkness(grey, box, page), 0)

    def darkness(self, grey, box=None, page=None):
        """How much darker than the paper each pixel is (negative where lighter)."""
        height, width = grey.shape
        left, top, right, bottom = box or (0, 0, width, height)
        page_width, page_height = page or (width, height)
        level, slope_x, slope_y = self.plane
        us = left + (np.arange(width, dtype=np.float32) + 0.5) * ((right - left) / width)
        vs = top + (np.arange(height, dtype=np.float32) + 0.5) * ((bottom - top) / height)
        paper = (level + slope_x / page_width * us)[None, :] + (slope_y / page_height * vs)[:, None]
        return paper - grey


@dataclass(frozen=True)
class Page:
    """An upload with its ink located: the grey page (work size), its Paper, the component
    labels of the copy the ink was located on and the components found there (left to right),
    how many upload pixels (upright, as a person sees it) one pixel of that copy spans along x
    and y, and `zoom`: how many of its pixels one small-copy pixel spans along a side (1, or
    more where the writing was located again finer)."""

    grey: Image.Image
    paper: Paper
    labels: np.ndarray
    components: list
    scale: tuple
    detail: Image.Image | None = None  # the grey page finer, for lines small on `grey`
    zoom: float = 1.0


@dataclass(frozen=True)
class Component:
    """A connected blob of ink: its label in the mask, pixel count and bounding box
    (left, top, right, bottom) in pixels of the mask."""

    label: int
    area: int
    box: tuple


def grayscale(decoded):
    """The decoded upload as an 8-bit grey image (255 white); transparent areas become paper.

    A canvas export keeps its drawing only in the alpha channel, so transparency is flattened
    onto the colour opposite to the ink's, whatever colour the ink is.
    """
    return flattened(decoded.grey, decoded.alpha)


def flattened(grey, alpha):
    """A grey band with its alpha band (or None) flattened as `grayscale` flattens them."""
    if alpha is None:
        return grey
    lowest, highest = alpha.getextrema()
    if highest <= 127 or lowest > 127:  # nothing drawn, or nothing transparent
        return grey
    drawn = np.asarray(alpha) > 127
    paper = 255 if np.asarray(grey)[drawn].mean() < 128 else 0
    return Image.composite(grey, Image.new("L", grey.size, paper), alpha)


def small_copy(grey, factor=None):
    """The page reduced `factor` times (by default to at most LOCATE_SIDE pixels a side,
    `small_factor`), as a uint8 array."""
    factor = factor or small_factor(grey)
    return np.asarray(grey.reduce(factor) if factor > 1 else grey)


def small_factor(grey):
    """How many times a grey page is reduced to make its small copy."""
    return max(1, -(-max(grey.size) // LOCATE_SIDE))


def paper_model(small, tiles=8):
    """The Paper of a page from its small copy: a plane through the tile medians near the
    paper's level (tiles mostly ink, of either polarity, left out); the polarity whose reading
    has the brighter extreme.

    Raises NoDigitFound when nothing stands out from the paper.
    """
    height, width = small.shape
    tile_height, tile_width = max(1, height // tiles), max(1, width // tiles)
    rows, cols = height // tile_height, width // tile_width
    # medians: thin ink, ruled lines included, leaves a tile's value at the paper's shade
    grid = np.median(small[: rows * tile_height, : cols * tile_width].reshape(
        rows, tile_height, cols, tile_width), axis=(1, 3))
    terms = _plane_terms(*grid.shape)
    values = grid.ravel()
    coef = np.array([_quantile(values, 0.5), 0.0, 0.0])  # flat paper at the median tile
    for _ in range(2):  # fit the plane to the tiles near it: the paper, not the ink
        residual = np.abs(values - terms @ coef)
        keep = residual <= max(8.0, 3 * 1.4826 * _quantile(residual, 0.5))
        if keep.sum() < 6:
            break
        kept = terms[keep]
        # a whisker of ridge: a page one pixel wide or tall has no slope across it to fit
        coef = np.linalg.solve(kept.T @ kept + 1e-6 * np.eye(3), kept.T @ values[keep])
    darkness = Paper(tuple(coef), 1).darkness(small).ravel()
    ends = [int(0.001 * darkness.size), int(0.999 * darkness.size)]
    light, dark = np.partition(darkness, ends)[ends] * (-1, 1)
    if max(dark, light) < MIN_CONTRAST * 255:
        raise NoDigitFound()
    return Paper(tuple(float(value) for value in coef), 1 if dark >= light else -1)


def ink_levels(ink, *shares):
    """The ink strengths over which a pixel is ink, one for each of `shares` of the strong
    strokes' level (INK_LEVEL: the ink; CORE_LEVEL: its core), never under MIN_CONTRAST; the
    strong strokes' level found once for all of them.

    Raises NoDigitFound when fewer than a few pixels stand out from the paper.
    """
    strong = ink[ink > MIN_CONTRAST * 255]
    if strong.size < 4:
        raise NoDigitFound()
    level = _quantile(strong, 0.9)
    return [max(MIN_CONTRAST * 255, share * level) for share in shares]


def remove_ruling(mask, zoom=1.0):
    """Drop ruled or squared paper lines: two or more long straight runs in one direction.

    Only the thin part goes: where a stroke crosses a line, the ink is thicker than the line
    across it, and stays. `zoom`: the mask's pixels along a side per small-copy pixel (the
    sizes below are the small copy's).
    """
    width = round(RULING_WIDTH * zoom)
    for axis in (0, 1):
        across = 1 - axis
        if mask.shape[axis] < RULING_SPAN * zoom:  # across a strip, a stroke is as long
            continue
        length = max(3, int(mask.shape[axis] * LINE_SPAN))
        band = ndimage.maximum_filter1d(mask, 3, axis=across)  # each line with its neighbours
        long_bands = band.sum(axis=axis) >= length
        # ruling is two lines or more: most pages stop here
        if np.count_nonzero(long_bands[1:] & ~long_bands[:-1]) + long_bands[0] < 2:
            continue
        opened = ndimage.maximum_filter1d(ndimage.minimum_filter1d(band, length, axis=axis),
                                          length, axis=axis)
        lines = mask & ndimage.maximum_filter1d(opened, 3, axis=across)
        if ndimage.label(lines.any(axis=axis))[1] >= 2:
            stroke = ndimage.maximum_filter1d(
                ndimage.minimum_filter1d(mask, width + 1, axis=across), width + 1, axis=across)
            mask = mask & ~(lines & ~stroke)
    return mask


def find_components(mask):
    """The mask's 8-connected blobs of ink, dust left out, ordered left to right: (labels,
    components), `labels` giving each pixel's component label (0 off the ink).

    Raises NoDigitFound when there is no ink.
    """
    labels, count = ndimage.label(mask.view(np.uint8), _EIGHT_NEIGHBOURS)
    if count == 0:
        raise NoDigitFound()
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    largest = areas[1:].max()
    components = [Component(label, int(areas[label]),
                            (cols.start, rows.start, cols.stop, rows.stop))
                  for label, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1)
                  if areas[label] >= SPECK_AREA * largest]
    return labels, sorted(components, key=lambda component: component.box[0])


@dataclass(frozen=True)
class Region:
    """Ink read again from the grey page: `mask` (at most DIGIT_SIDE pixels tall) showing `box`
    (left, top, right, bottom) in pixels of the page's grey image, whose pixels each span
    `upload_scale` pixels of the upload along x and y; `core`, the mask's pixels over
    CORE_LEVEL (the strokes without their faded edges), or None for the mask itself."""

    mask: np.ndarray
    box: tuple
    upload_scale: tuple
    core: np.ndarray = None

    def rows(self, start, stop):
        """The Region of the mask's rows `start` to `stop` (its box's top and bottom may then
        fall between the page's pixels)."""
        left, top, right, bottom = self.box
        per_row = (bottom - top) / self.mask.shape[0]
        return Region(self.mask[start:stop], (left, top + start * per_row, right,
                                               top + stop * per_row), self.upload_scale,
                      None if self.core is None else self.core[start:stop])


def split_rows(region):
    """A line's Region cut into the rows of writing its own ink shows (`rows_of` its blobs,
    dust left out), top to bottom, each cut halfway between two rows: lines too close for the
    page's small copy to part them. One Region when it is one row."""
    labels, count = ndimage.label(region.mask.view(np.uint8), _EIGHT_NEIGHBOURS)
    if count < 2:
        return [region]
    areas = np.bincount(labels.ravel())
    boxes = [(cols.start, rows.start, cols.stop, rows.stop)
             for label, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1)
             if areas[label] >= SPECK_AREA * areas[1:].max()]
    found = rows_of(boxes)
    if len(found) < 2:
        return [region]
    tops = [min(boxes[index][1] for index in row) for row in found]
    bottoms = [max(boxes[index][3] for index in row) for row in found]
    cuts = [0, *((bottom + top) // 2 for bottom, top in zip(bottoms, tops[1:])),
            region.mask.shape[0]]
    return [region.rows(start, stop) for start, stop in zip(cuts, cuts[1:])]


def joint_box(components):
    """(left, top, right, bottom) around the boxes of `components`."""
    return (min(c.box[0] for c in components), min(c.box[1] for c in components),
            max(c.box[2] for c in components), max(c.box[3] for c in components))


def read_region(page, components):
    """The ink of `components` (located on the page's small copy or a finer one), read again
    from the grey page (or its finer copy, when that gives more pixels) in their joint box,
    reaching LINE_REACH of its height further either side, at up to DIGIT_SIDE pixels tall: a
    Region. Its mask is the ink near the components and what `ink_apart` finds beside it."""
    grey, labels = page.grey, page.labels
    left, top, right, bottom = joint_box(components)
    reach = LINE_REACH * (bottom - top)  # in pixels of the copy the ink was located on
    # that copy's pixels around the components, so that no edge of a stroke is lost
    left, top = max(0, left - 1), max(0, top - 1)
    right, bottom = min(labels.shape[1], right + 1), min(labels.shape[0], bottom + 1)
    scale_x, scale_y = grey.size[0] / labels.shape[1], grey.size[1] / labels.shape[0]
    if (page.detail is not None and page.detail.size[1] > grey.size[1]
            and (bottom - top) * scale_y < DIGIT_SIDE):
        # shorter than DIGIT_SIDE on the work copy (a far-off number, a page of lines): read
        # from the finer copy, as tall as it allows up to DIGIT_SIDE. Dev split: digits right
        # in touching numbers 0.68-0.81 -> 0.78-0.83, single digits alike (89.5 % -> 89.6 %)
        grey = page.detail
        scale_x, scale_y = grey.size[0] / labels.shape[1], grey.size[1] / labels.shape[0]
    own = (round(left * scale_x), round(right * scale_x))  # the line's own columns
    top_px, bottom_px = round(top * scale_y), round(bottom * scale_y)
    shrink = -(-(bottom_px - top_px) // DIGIT_SIDE)
    # the reach in whole steps of the reduction, so that the line's own pixels are sampled as
    # they would be without it (a digit a pixel wider may be searched as touching digits)
    steps = round(reach * scale_x / shrink)
    box = (own[0] - shrink * min(steps, own[0] // shrink), top_px,
           min(grey.size[0], own[1] + shrink * steps), bottom_px)
    region = np.asarray(grey.reduce(shrink, box=box) if shrink > 1 else grey.crop(box))
    # each region pixel's pixel of the located copy, grown by one so that no edge of a
    # stroke is lost (on a finer copy the components show the strokes more closely)
    xs = box[0] + (np.arange(region.shape[1]) + 0.5) * shrink  # the pixels' middles on grey
    near_left = int(box[0] // scale_x)
    near_right = min(labels.shape[1], int(-(-box[2] // scale_x)))
    wanted = np.zeros(labels.max() + 1, dtype=bool)
    wanted[[c.label for c in components]] = True
    near = wanted[labels[top:bottom, near_left:near_right]]
    rows = ((np.arange(region.shape[0]) + 0.5) * (near.shape[0] / region.shape[0])).astype(int)
    cols = np.minimum((xs / scale_x).astype(int) - near_left, near.shape[1] - 1)
    grown = _widened(_widened(near, 0), 1)
    own_columns = (xs >= own[0]) & (xs < own[1])
    strength = page.paper.ink(region, box, grey.size)
    # the levels of the line's own strokes
    level, core_level = ink_levels(strength[:, own_columns], INK_LEVEL, CORE_LEVEL)
    ink = strength > level
    near_components = grown[rows[:, None], cols[None, :]]
    ink = without_thin_rules(ink, ink & near_components)
    mask = (ink & near_components) | ink_apart(ink, near_components, own_columns)
    # upload pixels per grey pixel, from the page's upload pixels per small-copy pixel
    return Region(mask, box, (page.scale[0] * labels.shape[1] / grey.size[0],
                              page.scale[1] * labels.shape[0] / grey.size[1]),
                  mask & (strength > core_level))


def stroke_width(mask):
    """The mean width of a mask's strokes, in pixels: twice its area over its edge pixels (a
    stroke w wide and l long has w * l pixels and 2 * l on its edges)."""
    inside = mask.copy()  # its erosion by a cross, the frame's edge counting as paper
    inside[[0, -1]] = inside[:, [0, -1]] = False
    inside[1:] &= mask[:-1]
    inside[:-1] &= mask[1:]
    inside[:, 1:] &= mask[:, :-1]
    inside[:, :-1] &= mask[:, 1:]
    return 2.0 * np.count_nonzero(mask) / max(1, np.count_nonzero(mask) - np.count_nonzero(inside))


def without_thin_rules(ink, strokes):
    """A line region's `ink` without the rules crossing it that are thinner than the pen
    (RULE_THIN of the mean width of `strokes`, the ink near the line's components): the
    thin pixels of rows or columns that rules fill (RULE_ROW, RULE_COLUMN). Where a stroke
    crosses a rule the ink is thicker than the rule and stays, and so does a dash or a point,
    too short to fill a row."""
    kept, thin_side = ink, None
    for axis, span in ((0, RULE_ROW), (1, RULE_COLUMN)):  # horizontal rules, then vertical
        along = 1 - axis
        # a row (column) the ink itself does not fill cannot be a rule: most regions have
        # none, and are spared the rest
        could = np.count_nonzero(_widened(kept, axis), axis=along) >= span * ink.shape[along]
        whole = could  # rows: any; columns: a rule seen whole reaches the top and bottom
        if axis == 1:
            whole = could & _widened(kept[[0, -1]], 1).all(axis=0)
            if not whole.any() and len(_run_middles(could)) < GRID_RULES:
                continue
        if not could.any():
            continue
        thin_side = thin_side or int(RULE_THIN * stroke_width(strokes))
        if thin_side < 2:  # nothing is thinner than a pixel
            return kept
        # of what the rules across left: their crossings are rules in both directions
        thin = kept & ~_in_runs(kept, thin_side, axis)
        filled = could & (np.count_nonzero(_widened(thin, axis), axis=along)
                          >= span * ink.shape[along])
        ruled = filled & whole
        if axis == 1:
            ruled |= grid_columns(filled, ink.shape[0])
        if ruled.any():
            ruled = _widened(ruled, 0)
            kept = kept & ~(thin & (ruled[:, None] if axis == 0 else ruled[None, :]))
    return kept


def grid_columns(filled, height):
    """The columns of a region `height` pixels tall that a grid's vertical rules cross: where
    the lattice that the most of the `filled` columns' runs lie on (within GRID_SLACK pixels,
    at least GRID_RULES of them, GRID_PERIOD of the height apart or more) falls, a boolean per
    column; none when they lie on no such lattice."""
    middles = _run_middles(filled)
    best = None  # (the lattice's origin, its period, the runs on it)
    for first, second in zip(middles, middles[1:]):
        period = second - first
        if period < GRID_PERIOD * height:
            continue
        on = sum(abs(m - first - round((m - first) / period) * period) <= GRID_SLACK
                 for m in middles)
        if on >= GRID_RULES and (best is None or on > best[2]):
            best = (first, period, on)
    columns = np.zeros(len(filled), dtype=bool)
    if best is not None:
        origin, period, _ = best
        last = np.floor((len(filled) - origin) / period)
        spots = np.round(origin + np.arange(-np.floor(origin / period), last + 1) * period)
        spots = spots.astype(int)
        columns[spots[(spots >= 0) & (spots < len(filled))]] = True
    return columns


def _run_middles(flags):
    """The middle of each run of True in a 1-d boolean array, in order."""
    edges = np.diff(np.concatenate([[0], flags.view(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list((starts + stops - 1) / 2)


# The two below are scipy.ndimage's binary_opening by a line and maximum_filter1d of size 3,
# written with numpy slices: on a region's few thousand pixels scipy's calls cost a single
# digit's read 0.3 ms more than no rule removal at all; these, and skipping what no rule can
# fill, about 0.03 ms (bench/profile.py, the lines' regions). `_widened` also grows the
# located components by a pixel for each line's region.
def _in_runs(mask, length, axis):
    """The pixels of `mask` in runs at least `length` long along `axis` (rows: 0): its
    opening by a line of that length."""
    runs = np.moveaxis(mask, axis, 0)
    starts = runs.shape[0] - length + 1  # where a run of `length` may start
    kept = np.zeros_like(runs)
    if starts > 0:
        whole = runs[:starts].copy()
        for step in range(1, length):
            whole &= runs[step:starts + step]
        for step in range(length):
            kept[step:starts + step] |= whole
    return np.moveaxis(kept, 0, axis)


def _widened(mask, axis):
    """`mask` grown by a pixel either way along `axis` (rows: 0)."""
    grown = mask.copy()
    if axis == 0:
        grown[1:] |= mask[:-1]
        grown[:-1] |= mask[1:]
    else:
        grown[:, 1:] |= mask[:, :-1]
        grown[:, :-1] |= mask[:, 1:]
    return grown


def ink_apart(ink, kept, own):
    """The blobs of a region's `ink` mostly outside the `kept` pixels (those near the page's
    components), away from its edges, that are a digit (at least DIGIT_APART of the region's
    height tall) or, within the line's `own` columns (a boolean per column), a point or a dash
    (at most MARK_SIDE of it), or a dash whose middle is before them (ending at most
    SIGN_REACH of the height before them, SIGN_ASPECT as wide as tall: a minus sign): ink too small or too
    faint to show on the page's small copy (a decimal point, a thin 1 or 0 at the end of a
    line in a photo of a page), which would otherwise be cut away with the dust beside the
    line. A mark may reach the region's bottom edge: the region is the digits' box, and a
    comma's tail, or a point set a little low, hangs below it."""
    labels, count = ndimage.label(ink.view(np.uint8), _EIGHT_NEIGHBOURS)
    kept_share = (np.bincount(labels[kept].ravel(), minlength=count + 1)
                  / np.maximum(1, np.bincount(labels.ravel(), minlength=count + 1)))
    shortest, tallest = DIGIT_APART * ink.shape[0], MARK_SIDE * ink.shape[0]
    first = int(own.argmax()) if own.any() else 0  # the line's first own column
    chosen = np.zeros(count + 1, dtype=bool)  # label 0, the paper, is never chosen
    for label, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        sides = rows.start > 0 and cols.start > 0 and cols.stop < ink.shape[1]
        tall = rows.stop - rows.start
        # its middle before the line, as the segmentation reads a sign (it may reach into the
        # line's first columns, a small-copy pixel wider than its ink; an underline may not)
        sign = (cols.start + cols.stop < 2 * first
                and first - cols.stop <= SIGN_REACH * ink.shape[0]
                and cols.stop - cols.start >= SIGN_ASPECT * tall)
        mark = sides and tall <= tallest and (sign or own[cols.start:cols.stop].all())
        digit = sides and rows.stop < ink.shape[0] and tall >= shortest
        chosen[label] = kept_share[label] < 0.5 and (mark or digit)
    return chosen[labels]


def lines_of(page):
    """The page's components grouped into lines of writing, top to bottom: a list of lists of
    Components (`rows_of` their boxes)."""
    return [[page.components[index] for index in row]
            for row in rows_of([component.box for component in page.components])]


def rows_of(boxes):
    """Blobs' boxes (left, top, right, bottom) grouped into rows of writing, top to bottom: a
    list of lists of indices into `boxes`. Empty rows part the rows (`bands`), except between
    two bands that are the halves of one digit broken across (a 0 or an 8 with faint sides,
    `_halves_of_one_digit`), which is how a column of single digits looks too."""
    rows = np.zeros(max(box[3] for box in boxes) + 1, dtype=bool)
    for box in boxes:
        rows[box[1]:box[3]] = True
    lines = bands(rows)
    groups = [[] for _ in lines]
    for index, box in enumerate(boxes):
        middle = (box[1] + box[3]) / 2
        nearest = min(range(len(lines)), key=lambda line: max(
            lines[line][0] - middle, middle - lines[line][1], 0))
        groups[nearest].append(index)
    stacked, halves = [groups[0]], False
    for group in groups[1:]:
        # a digit has two halves: a band under a merged pair starts a row of its own
        halves = not halves and _halves_of_one_digit([boxes[index] for index in stacked[-1]],
                                                     [boxes[index] for index in group])
        if halves:
            stacked[-1] = stacked[-1] + group
        else:
            stacked.append(group)
    return [group for group in stacked if group]


def _halves_of_one_digit(above, below):
    """Whether two rows of blobs' boxes are the halves of one digit broken across its middle:
    each one column of ink, over the other's, together no wider than tall (as a digit is;
    lines of touching digits, a blob each, stacked at one indent, are mostly wider)."""
    spans = _columns(above), _columns(below)
    if not len(spans[0]) == len(spans[1]) == 1 or _overlap(spans[0][0], spans[1][0]) < 0.5:
        return False
    boxes = above + below
    width = max(box[2] for box in boxes) - min(box[0] for box in boxes)
    return width <= max(box[3] for box in boxes) - min(box[1] for box in boxes)


def bands(rows):
    """The bands of rows that hold ink (`rows`: a boolean per row), top to bottom, as
    (start, stop): runs apart by a gap under LINE_GAP of the tallest run are one band (a stroke
    broken by a faint pen, a 5's bar), and a band under LINE_SHARE of the tallest (a dot or a
    dash alone in its rows) is left out."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rows.view(np.int8), [0]])))
    runs = [[start, stop] for start, stop in zip(edges[::2], edges[1::2])]
    if not runs:
        return []
    tallest = max(stop - start for start, stop in runs)
    merged = [runs[0]]
    for start, stop in runs[1:]:
        if start - merged[-1][1] < LINE_GAP * tallest:
            merged[-1][1] = stop
        else:
            merged.append([start, stop])
    tallest = max(stop - start for start, stop in merged)
    return [(start, stop) for start, stop in merged if stop - start >= LINE_SHARE * tallest]


def _columns(boxes):
    """The column spans (left, right) of a line's ink: its blobs' overlapping spans (of their
    boxes) joined, left to right."""
    spans = []
    for left, right in sorted((box[0], box[2]) for box in boxes):
        if spans and left < spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], right)
        else:
            spans.append([left, right])
    return spans


def _overlap(first, second):
    """How much two column spans overlap, as a share of the narrower."""
    shared = min(first[1], second[1]) - max(first[0], second[0])
    return shared / max(1, min(first[1] - first[0], second[1] - second[0]))


def line_components(page, components, elsewhere=()):
    """The blobs that make up the line of digits whose non-dust `components` (of the page) are
    given: those, and every blob in the rows they span that lies between them or is more than
    a speck, but for the `elsewhere` labels (other lines' components reaching into its rows).
    On the small copy a thin digit of a long number may be a few small blobs that would pass
    for dust; the segmentation weighs them again at the line's resolution."""
    left, top, right, bottom = joint_box(components)
    areas = np.bincount(page.labels.ravel())
    speck = LINE_SPECK * page.zoom ** 2
    inside = []
    for label, (rows, cols) in enumerate(ndimage.find_objects(page.labels), start=1):
        if rows is None or rows.start >= bottom or rows.stop <= top or label in elsewhere:
            continue
        if (cols.start < right and cols.stop > left) or areas[label] > speck:
            inside.append(Component(label, int(areas[label]),
                                    (cols.start, rows.start, cols.stop, rows.stop)))
    return inside


def line_regions(page):
    """The ink of each line of writing on the page (`lines_of`, `line_components`) read
    again, top to bottom, and cut where it shows rows the small copy ran together
    (`split_rows`): a list of Regions, one per row of writing."""
    lines = lines_of(page)
    labels = [{component.label for component in line} for line in lines]
    return [row for index, line in enumerate(lines)
            for row in split_rows(read_region(page, line_components(
                page, line, set().union(*labels[:index], *labels[index + 1:]))))]


def locate(grey, scale=(1.0, 1.0), detail=None):
    """Find the ink on a grey page (`scale`: upload pixels per page pixel, along x and y; a
    finer copy of it, `detail`, is kept for lines small on it): a Page. The ink is found on
    the page's small copy, and again on a finer copy where the writing is small on it
    (FINE_BELOW); the paper and the ink's level are the small copy's. Raises NoDigitFound."""
    factor = small_factor(grey)
    small = small_copy(grey, factor)
    paper = paper_model(small)
    ink = paper.ink(small)
    (level,) = ink_levels(ink, INK_LEVEL)
    labels, components = find_components(remove_ruling(ink > level))
    tallest = max(component.box[3] - component.box[1] for component in components)
    finer = max(1, round(factor * tallest / FINE_DIGIT))
    zoom = 1.0
    if tallest < FINE_BELOW and finer < factor:
        small, zoom = small_copy(grey, finer), factor / finer
        # the small copy's level: on the finer copy a thin stroke is shared by two pixels,
        # each fainter than the strokes that set its own level (an arm of a digit was lost)
        labels, components = find_components(remove_ruling(paper.ink(small) > level, zoom))
    return Page(grey, paper, labels, components, (scale[0] * grey.size[0] / small.shape[1],
                                                  scale[1] * grey.size[1] / small.shape[0]),
                detail, zoom)


@lru_cache(maxsize=64)
def _plane_terms(rows, cols):
    """Design matrix of a plane (1, u, v) at the centres of a rows x cols grid, row-major."""
    vs, us = np.meshgrid((np.arange(rows) + 0.5) / rows, (np.arange(cols) + 0.5) / cols,
                         indexing="ij")
    return np.stack([np.ones(us.size), us.ravel(), vs.ravel()], axis=1)


def _quantile(values, q):
    """The q-quantile (0..1) of an array's values, by partition (np.percentile costs more
    than the whole of it on arrays this small)."""
    flat = values.ravel()
    index = min(flat.size - 1, int(q * flat.size))
    return float(np.partition(flat, index)[index])
