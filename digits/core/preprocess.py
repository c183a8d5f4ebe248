"""Upload bytes -> the 8x8 images of 0..16 counts that `load_digits` is made of.

`load_digits` (UCI optdigits) was scanned to 32x32 binary bitmaps with the digit scaled to the
box's full height, then cut into 4x4 blocks whose set pixels were counted. Each step below
rebuilds one part of that, so that a phone photo, a scan or a canvas drawing reaches the model
in the representation it was trained on:

    decode_image -> grayscale -> paper_model -> ink_mask -> find_components
                 -> digit_mask (each digit) -> fit_to_box -> block_counts

The ink is located once on a small copy of the page (at most LOCATE_SIDE pixels a side); only
each digit's own region is then read at the resolution its 32x32 box needs.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

from digits.core.decoding import Limits, decode_image
from digits.core.errors import NoDigitFound

BOX = 32
BLOCK = 4
DIGIT_WIDTH = 20  # optdigits scaled digits into a 20x32 region of the 32x32 box
TARGET_INK = 0.305  # mean share of set pixels in an optdigits bitmap, whatever the digit
LOCATE_SIDE = 64  # the ink is located on a copy of the page at most this large
DIGIT_SIDE = 2 * BOX  # a digit's region is read at most this tall
MARGIN = 4  # room around the box while the pen's weight is set, so no stroke is cut
MIN_CONTRAST = 0.15  # ink must differ from the paper by this much (0..1) to count as a digit
LINE_SPAN = 0.6  # a straight run this long (fraction of the side) is ruling, not a stroke
RULING_WIDTH = 2  # ruled lines are at most this thick (pixels) on the small copy
RULING_SPAN = LOCATE_SIDE // 2  # ruling is looked for only along sides at least this long
MAX_WIDENINGS = 4  # a stroke is blurred wider at most this often (each time by 2 pixels a side)
SPECK_AREA = 0.05  # ink blobs under 5 % of the largest blob are dust
_EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)
_BLUR = np.array([0.1, 0.2, 0.4, 0.2, 0.1], dtype=np.float32)  # about 2 pixels of the box


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
    """An upload with its ink located: the grey page (work size), its Paper, the small copy's
    component labels and the components found there (left to right), and how many upload
    pixels (upright, as a person sees it) one small-copy pixel spans along x and y."""

    grey: Image.Image
    paper: Paper
    labels: np.ndarray
    components: list
    scale: tuple

    def upload_box(self, component):
        """A component's bounding box in the upload's own pixels: (left, top, width, height)."""
        left, top, right, bottom = component.box
        scale_x, scale_y = self.scale
        left, top = round(left * scale_x), round(top * scale_y)
        return left, top, round(right * scale_x) - left, round(bottom * scale_y) - top


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
    grey, alpha = decoded.grey, decoded.alpha
    if alpha is None:
        return grey
    lowest, highest = alpha.getextrema()
    if highest <= 127 or lowest > 127:  # nothing drawn, or nothing transparent
        return grey
    drawn = np.asarray(alpha) > 127
    paper = 255 if np.asarray(grey)[drawn].mean() < 128 else 0
    return Image.composite(grey, Image.new("L", grey.size, paper), alpha)


def small_copy(grey):
    """The page reduced to at most LOCATE_SIDE pixels a side, as a uint8 array."""
    factor = max(1, -(-max(grey.size) // LOCATE_SIDE))
    return np.asarray(grey.reduce(factor) if factor > 1 else grey)


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
        raise NoDigitFound(no_digit_message())
    return Paper(tuple(float(value) for value in coef), 1 if dark >= light else -1)


def ink_mask(ink):
    """Pixels that are ink: over the threshold halfway to the strong strokes' level.

    Raises NoDigitFound when fewer than a few pixels stand out from the paper.
    """
    strong = ink[ink > MIN_CONTRAST * 255]
    if strong.size < 4:
        raise NoDigitFound(no_digit_message())
    return ink > max(MIN_CONTRAST * 255, 0.5 * _quantile(strong, 0.9))


def remove_ruling(mask):
    """Drop ruled or squared paper lines: two or more long straight runs in one direction.

    Only the thin part goes: where a stroke crosses a line, the ink is thicker than the line
    across it, and stays.
    """
    for axis in (0, 1):
        across = 1 - axis
        if mask.shape[axis] < RULING_SPAN:  # across a wide strip, a digit's stroke is as long
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
                ndimage.minimum_filter1d(mask, RULING_WIDTH + 1, axis=across),
                RULING_WIDTH + 1, axis=across)
            mask = mask & ~(lines & ~stroke)
    return mask


def find_components(mask):
    """The mask's 8-connected blobs of ink, dust left out, ordered left to right: (labels,
    components), `labels` giving each pixel's component label (0 off the ink).

    Raises NoDigitFound when there is no ink.
    """
    labels, count = ndimage.label(mask.view(np.uint8), _EIGHT_NEIGHBOURS)
    if count == 0:
        raise NoDigitFound(no_digit_message())
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
    (left, top, right, bottom) in pixels of the page's grey image."""

    mask: np.ndarray
    box: tuple

    def upload_box(self, page, part):
        """`part` (left, top, right, bottom in pixels of `mask`) in the upload's own pixels, as
        a person sees it: (left, top, width, height)."""
        left, top, right, bottom = self.box
        height, width = self.mask.shape
        # upload pixels per grey pixel, from the page's upload pixels per small-copy pixel
        per_x = page.scale[0] * page.labels.shape[1] / page.grey.size[0]
        per_y = page.scale[1] * page.labels.shape[0] / page.grey.size[1]
        scale_x, scale_y = (right - left) / width * per_x, (bottom - top) / height * per_y
        x0, y0 = left * per_x, top * per_y  # the region's corner in upload pixels
        box_left, box_top = round(x0 + part[0] * scale_x), round(y0 + part[1] * scale_y)
        return (box_left, box_top, round(x0 + part[2] * scale_x) - box_left,
                round(y0 + part[3] * scale_y) - box_top)


def joint_box(components):
    """(left, top, right, bottom) around the boxes of `components`."""
    return (min(c.box[0] for c in components), min(c.box[1] for c in components),
            max(c.box[2] for c in components), max(c.box[3] for c in components))


def read_region(page, components):
    """The ink of `components` (found on the page's small copy), read again from the grey
    page in their joint box at up to DIGIT_SIDE pixels tall: a Region."""
    grey, labels = page.grey, page.labels
    left, top, right, bottom = joint_box(components)
    # the small copy's pixels around the components, so that no edge of a stroke is lost
    left, top = max(0, left - 1), max(0, top - 1)
    right, bottom = min(labels.shape[1], right + 1), min(labels.shape[0], bottom + 1)
    wanted = np.zeros(labels.max() + 1, dtype=bool)
    wanted[[c.label for c in components]] = True
    near = wanted[labels[top:bottom, left:right]]
    scale_x, scale_y = grey.size[0] / labels.shape[1], grey.size[1] / labels.shape[0]
    box = (round(left * scale_x), round(top * scale_y), round(right * scale_x),
           round(bottom * scale_y))
    shrink = -(-(box[3] - box[1]) // DIGIT_SIDE)
    region = np.asarray(grey.reduce(shrink, box=box) if shrink > 1 else grey.crop(box))
    # each region pixel's small-copy pixel, grown by one so that no edge of a stroke is lost
    rows = ((np.arange(region.shape[0]) + 0.5) * (near.shape[0] / region.shape[0])).astype(int)
    cols = ((np.arange(region.shape[1]) + 0.5) * (near.shape[1] / region.shape[1])).astype(int)
    grown = near.copy()
    grown[1:] |= near[:-1]
    grown[:-1] |= near[1:]
    grown[:, 1:] |= grown[:, :-1].copy()
    grown[:, :-1] |= grown[:, 1:].copy()
    mask = ink_mask(page.paper.ink(region, box, grey.size)) & grown[rows[:, None], cols[None, :]]
    return Region(mask, box)


def digit_mask(page, components):
    """The ink of `components` read again from the grey page (see `read_region`): a mask."""
    return read_region(page, components).mask


def fit_to_box(mask, box=BOX):
    """Scale a digit's mask into the box as optdigits did: slant straightened, full height, at
    most DIGIT_WIDTH wide (aspect kept below that), centred, strokes as thick as theirs.

    One affine warp does the crop, shear and scale; a blur and the threshold that leaves
    optdigits' share of ink set it to their stroke weight whatever the pen.
    """
    digit = _cropped(mask)
    coverage = _mask_image(digit)
    shrink = digit.shape[0] // (2 * box)  # a bilinear warp would skip pixels below half size
    if shrink > 1:
        coverage = coverage.reduce(shrink)
        digit = np.asarray(coverage) > 127
    soft = _warped(coverage, digit, box)
    if not soft.any():
        # A stroke narrower than the warp's step between samples falls between them (a dead
        # straight 1 drawn with a thin pen): widen it to that step and warp again.
        step = int(np.ceil(_warp(digit, box)[0]))
        digit = ndimage.binary_dilation(np.pad(digit, ((0, 0), (step, step))),
                                        np.ones((1, 2 * step + 1), dtype=bool))
        soft = _warped(_mask_image(digit), digit, box)
    # optdigits' strokes always hold about TARGET_INK of the box, even a 1's single stroke; a
    # thinner one, blurred once, still covers less: blur it again until it could.
    for _ in range(MAX_WIDENINGS):
        if np.count_nonzero(soft) >= TARGET_INK * box * box:
            break
        soft = _blurred(soft)
    # A thicker pen grows the digit past its outline; it is scaled back to the box's height
    # below, so ask for that much more ink first: optdigits' share is what remains.
    inked = _largest(soft, TARGET_INK * box * box)
    growth = np.count_nonzero(inked.any(axis=1)) / box
    inked = _largest(soft, TARGET_INK * box * box * growth * growth)
    region = _cropped(inked)
    height, width = region.shape
    new_width = min(max(1, round(width * box / height)), DIGIT_WIDTH * box // BOX)
    scaled = _mask_image(region).resize((new_width, box), Image.Resampling.BOX)
    bitmap = np.zeros((box, box), dtype=bool)
    left = (box - new_width) // 2
    bitmap[:, left : left + new_width] = np.asarray(scaled) >= 128
    return bitmap


def block_counts(bitmap, block=BLOCK):
    """Count set pixels in each block x block tile: a 32x32 bitmap becomes 8x8 values 0..16."""
    side = bitmap.shape[0] // block
    return bitmap.reshape(side, block, side, block).sum(axis=(1, 3)).astype(np.uint8)


def locate(grey, scale=(1.0, 1.0)):
    """Find the ink on a grey page (`scale`: upload pixels per page pixel, along x and y): a
    Page. Raises NoDigitFound."""
    small = small_copy(grey)
    paper = paper_model(small)
    labels, components = find_components(remove_ruling(ink_mask(paper.ink(small))))
    return Page(grey, paper, labels, components, (scale[0] * grey.size[0] / small.shape[1],
                                                  scale[1] * grey.size[1] / small.shape[0]))


def locate_ink(data, limits=Limits()):
    """Decode an upload and find its ink: a Page. Raises NotAnImage and ImageTooLarge (from
    decode_image) and NoDigitFound."""
    decoded = decode_image(data, limits)
    return locate(grayscale(decoded), decoded.scale)


def upload_to_pixels(data, limits=Limits()):
    """Upload bytes -> the 8x8 counts of all the ink that is not dust, taken as one digit,
    with no segmentation. The service reads through `digits.core.reading` instead (which also
    finds several digits); this is the plain path the notebook and the preprocessing tests
    show step by step."""
    page = locate_ink(data, limits)
    return block_counts(fit_to_box(digit_mask(page, page.components)))


def no_digit_message():
    """The detail of a NoDigitFound."""
    return ("No digit was found: the image looks blank or uniform. Send an image with a "
            "handwritten digit that stands out from the paper.")


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


def _cropped(mask):
    """The mask cut to the bounding box of its set pixels."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _warped(coverage, digit, box):
    """The digit's coverage warped into the box's canvas (see `_warp`) and blurred to about
    optdigits' pen: float32, 0..255."""
    canvas = box + 2 * MARGIN
    soft = np.asarray(coverage.transform((canvas, canvas), Image.Transform.AFFINE,
                                         _warp(digit, box), Image.Resampling.BILINEAR),
                      dtype=np.float32)
    return _blurred(soft)


def _blurred(values):
    """`values` blurred by _BLUR down the columns and along the rows (zero past the edges)."""
    return ndimage.correlate1d(ndimage.correlate1d(values, _BLUR, 0, mode="constant"), _BLUR, 1,
                               mode="constant")


def _mask_image(mask):
    """A boolean mask as an 8-bit Pillow image: 255 where set, 0 elsewhere."""
    return Image.fromarray(mask.view(np.uint8) * np.uint8(255))


def _warp(digit, box):
    """Affine coefficients (output point -> input point) that straighten the digit's slant and
    scale it to the box's height, at most DIGIT_WIDTH wide, centred."""
    height, width = digit.shape
    ys, xs = np.nonzero(digit)
    y_mean = ys.mean()
    dy = ys - y_mean
    slant = min(1.0, max(-1.0, float(dy @ (xs - xs.mean())) / max(float(dy @ dy), 1.0)))
    upright = xs - slant * dy  # x once the slant is taken out
    left, right = float(upright.min()), float(upright.max()) + 1
    scale_y = box / height
    scale_x = min(scale_y, DIGIT_WIDTH * box / BOX / (right - left))
    # Pillow maps each output point (u, v) to the input point (a u + b v + c, d u + e v + f),
    # pixel centres at +0.5: v = MARGIN + y * scale_y, u = middle of the canvas
    # + (x' - middle of the digit) * scale_x.
    a, e = 1 / scale_x, 1 / scale_y
    f = -MARGIN * e
    c = (left + right) / 2 - (box / 2 + MARGIN) * a + slant * (f - y_mean - 0.5)
    return (a, slant * e, c, 0.0, e, f)


def _largest(values, count):
    """The `count` largest values (at least one) as a boolean image."""
    flat = values.ravel()
    count = min(max(1, round(count)), flat.size)
    level = np.partition(flat, flat.size - count)[flat.size - count]
    return values >= max(level, 1e-6)
