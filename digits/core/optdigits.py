"""A digit's ink -> the 8x8 image of 0..16 counts that `load_digits` is made of.

`load_digits` (UCI optdigits) was scanned to 32x32 binary bitmaps with the digit scaled to the
box's full height, then cut into 4x4 blocks whose set pixels were counted. `fit_to_boxes`
rebuilds the bitmaps from digits' masks (`fit_to_box` from one), whatever the pen and the slant;
`block_counts` counts the blocks.
"""

from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

BOX = 32
BLOCK = 4
DIGIT_WIDTH = 20  # optdigits scaled digits into a 20x32 region of the 32x32 box
TARGET_INK = 0.305  # mean share of set pixels in an optdigits bitmap, whatever the digit
MARGIN = 4  # room around the box while the pen's weight is set, so no stroke is cut
MAX_WIDENINGS = 4  # a stroke is blurred wider at most this often (each time by 2 pixels a side)
_FAINTEST = 1e-6  # a value below this is no ink
_BLUR = np.array([0.1, 0.2, 0.4, 0.2, 0.1], dtype=np.float32)  # about 2 pixels of the box
_ONE = float(1 << 22)  # 1 in Pillow's fixed point for 8-bit resampling (PRECISION_BITS)


def fit_to_box(mask, box=BOX):
    """Scale a digit's mask into the box as optdigits did (`fit_to_boxes` of it alone)."""
    return fit_to_boxes([mask], box)[0]


def fit_to_boxes(masks, box=BOX):
    """Scale each digit's mask into the box as optdigits did: slant straightened, full height,
    at most DIGIT_WIDTH wide (aspect kept below that), centred, strokes as thick as theirs.
    An (n, box, box) boolean array.

    One affine warp does the crop, shear and scale; a blur and the threshold that leaves
    optdigits' share of ink set it to their stroke weight whatever the pen. Past the warp the
    masks go through each step together, one numpy call for all: 30 pieces of a search cost
    about 0.17 ms each, against 0.27 fitted one at a time.
    """
    if not len(masks):
        return np.zeros((0, box, box), dtype=bool)
    soft = _warped(masks, box)
    # optdigits' strokes always hold about TARGET_INK of the box, even a 1's single stroke; a
    # thinner one, blurred once, still covers less: blur it again until it could.
    for _ in range(MAX_WIDENINGS):
        thin = (soft != 0).sum(axis=(1, 2)) < TARGET_INK * box * box
        if not thin.any():
            break
        soft[thin] = _blurred(soft[thin])
    # A thicker pen grows the digit past its outline; it is scaled back to the box's height
    # below, so ask for that much more ink first: optdigits' share is what remains.
    ordered = np.sort(soft.reshape(len(soft), -1), axis=1)
    inked = ordered.shape[1] - (ordered < _FAINTEST).sum(axis=1)
    least = _least_kept(ordered, inked, TARGET_INK * box * box)
    growth = (soft.max(axis=2) >= least[:, None]).sum(axis=1) / box
    least = _least_kept(ordered, inked, TARGET_INK * box * box * growth * growth)
    return _scaled(soft >= least[:, None, None], box)


def block_counts(bitmap, block=BLOCK):
    """Count set pixels in each block x block tile: a 32x32 bitmap becomes 8x8 values 0..16
    (and a stack of them, (n, 32, 32), a stack of those)."""
    side = bitmap.shape[-1] // block
    tiles = bitmap.reshape(*bitmap.shape[:-2], side, block, side, block)
    return tiles.sum(axis=(-3, -1)).astype(np.uint8)


def _cropped(mask):
    """The mask cut to the bounding box of its set pixels."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _warped(masks, box):
    """Each mask's digit warped into the box's canvas (see `_warp`) and blurred to about
    optdigits' pen: (n, canvas, canvas) float32, 0..255."""
    canvas = box + 2 * MARGIN
    warped = np.empty((len(masks), canvas, canvas), dtype=np.float32)
    for index, mask in enumerate(masks):
        digit = _cropped(mask)
        coverage = _mask_image(digit)
        shrink = digit.shape[0] // (2 * box)  # a bilinear warp would skip pixels below half size
        if shrink > 1:
            coverage = coverage.reduce(shrink)
            digit = np.asarray(coverage) > 127
        warped[index] = _transformed(coverage, digit, box)
        if not warped[index].any():
            # A stroke narrower than the warp's step between samples falls between them (a
            # dead straight 1 drawn with a thin pen): widen it to that step and warp again.
            step = int(np.ceil(_warp(digit, box)[0]))
            digit = ndimage.binary_dilation(np.pad(digit, ((0, 0), (step, step))),
                                            np.ones((1, 2 * step + 1), dtype=bool))
            warped[index] = _transformed(_mask_image(digit), digit, box)
    return _blurred(warped)


def _transformed(coverage, digit, box):
    """The digit's coverage (a Pillow image) warped into the box's canvas (`_warp`): float32,
    0..255."""
    canvas = box + 2 * MARGIN
    return np.asarray(coverage.transform((canvas, canvas), Image.Transform.AFFINE,
                                         _warp(digit, box), Image.Resampling.BILINEAR),
                      dtype=np.float32)


def _bounds(layers):
    """Each layer's bounding box of set pixels: its (top, left) and (bottom, right), (2, n)."""
    rows, cols = layers.any(axis=2), layers.any(axis=1)
    return (np.array([rows.argmax(axis=1), cols.argmax(axis=1)]),
            np.array([rows.shape[1] - rows[:, ::-1].argmax(axis=1),
                      cols.shape[1] - cols[:, ::-1].argmax(axis=1)]))


def _blurred(values):
    """Each image of `values` (n, rows, columns) blurred by _BLUR down the columns and along
    the rows (zero past the edges)."""
    return ndimage.correlate1d(ndimage.correlate1d(values, _BLUR, 1, mode="constant"), _BLUR, 2,
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


def _least_kept(ordered, inked, counts):
    """The least value kept when each image keeps its `counts` largest values (at least one),
    or all its `inked` values (those above zero) when it has fewer: (n,) of the dtype of
    `ordered`, each image's values sorted (n, pixels)."""
    counts = np.maximum(1, np.rint(counts)).astype(np.int64)
    least = ordered[np.arange(len(ordered)), np.maximum(ordered.shape[1] - counts, 0)]
    least[counts >= inked] = _FAINTEST
    return least


def _scaled(inked, box):
    """Each inked canvas cut to its ink, scaled to the box's height and at most DIGIT_WIDTH
    wide (aspect kept), and centred in the box, as Pillow's BOX resize and a threshold at half
    would: (n, box, box) boolean."""
    n, canvas, _ = inked.shape
    across, down = np.zeros((n, canvas, box)), np.zeros((n, box, canvas))
    for index, (top, left, bottom, right) in enumerate(np.concatenate(_bounds(inked)).T.tolist()):
        height, width = bottom - top, right - left
        new_width = min(max(1, round(width * box / height)), DIGIT_WIDTH * box // BOX)
        start = (box - new_width) // 2
        across[index, left:right, start : start + new_width] = _box_weights(width, new_width).T
        down[index, :, top:bottom] = _box_weights(height, box)
    # Pillow's passes in its fixed point, each rounded to 8 bits; float64 holds every sum
    # exactly (under 2**37), and lets BLAS do the products
    values = np.floor((inked * 255.0) @ across / _ONE + 0.5)
    return down @ values >= 127.5 * _ONE  # 128 or more once rounded


@lru_cache(maxsize=None)  # sizes within the canvas: at most 40 x 32 pairs
def _box_weights(size, new_size):
    """Pillow's BOX resampling from `size` pixels to `new_size`, in its fixed point
    (`_ONE` is 1): (new_size, size), read only. The identity when the sizes match (Pillow
    skips the pass)."""
    weights = np.zeros((new_size, size))
    if size == new_size:
        np.fill_diagonal(weights, _ONE)
    else:
        scale = size / new_size
        reach = max(scale, 1.0)  # the filter's scale: wider only when shrinking
        for out in range(new_size):
            centre = (out + 0.5) * scale
            first = max(int(centre - 0.5 * reach + 0.5), 0)
            last = min(int(centre + 0.5 * reach + 0.5), size)
            # Pillow's test, in its arithmetic: a pixel's centre within half the filter's scale
            taken = [first + x for x in range(last - first)
                     if -0.5 < (first + x - centre + 0.5) * (1.0 / reach) <= 0.5]
            weights[out, taken] = int(0.5 + 1.0 / len(taken) * _ONE)
    weights.setflags(write=False)
    return weights
