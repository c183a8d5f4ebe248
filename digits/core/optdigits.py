"""A digit's ink -> the 8x8 image of 0..16 counts that `load_digits` is made of.

`load_digits` (UCI optdigits) was scanned to 32x32 binary bitmaps with the digit scaled to the
box's full height, then cut into 4x4 blocks whose set pixels were counted. `fit_to_box` rebuilds
the bitmap from a digit's mask, whatever the pen and the slant; `block_counts` counts the blocks.
"""

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
    """The `count` largest values (at least one) as a boolean image: all that are above zero
    when fewer are."""
    # Only the positive values are searched: most of a digit's canvas is 0, and numpy's
    # partition slows 5-20-fold on that many equal values (80 against 4 us on 1,600).
    flat = values.ravel()
    inked = flat[flat >= _FAINTEST]
    count = max(1, round(count))
    if count >= inked.size:
        return values >= _FAINTEST
    return values >= np.partition(inked, inked.size - count)[inked.size - count]
