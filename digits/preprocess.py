"""Upload bytes -> the 8x8 image of 0..16 counts that `load_digits` is made of.

`load_digits` (UCI optdigits) was scanned to 32x32 binary bitmaps with the digit scaled to the
box's full height, then cut into 4x4 blocks whose set pixels were counted. Each step below
rebuilds one part of that, so that a phone photo, a scan or a canvas drawing reaches the model
in the representation it was trained on:

    decode_image -> grayscale -> ink_strength -> ink_mask -> fit_to_box -> block_counts
"""

import io

import numpy as np
from PIL import Image, ImageOps
# The accepted formats' decoders, registered here (in gunicorn's preloading master) by name:
# asked for a format it has not registered, Pillow imports all of its ~45 plugins, in every
# worker (about 3 MB each).
from PIL import (BmpImagePlugin, GifImagePlugin, JpegImagePlugin,  # noqa: F401
                 PngImagePlugin, TiffImagePlugin, WebPImagePlugin)

from digits import binary
from digits.errors import ImageTooLarge, NoDigitFound, NotAnImage

# The configured pixel limit, checked in decode_image before any pixel is decoded, replaces
# Pillow's own decompression-bomb limit (which would refuse without saying the image's size).
Image.MAX_IMAGE_PIXELS = None

ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
WORK_SIDE = 160  # analysed at most this large: plenty for an 8x8 result, cheap on a small VPS
BOX = 32
BLOCK = 4
DIGIT_WIDTH = 20  # optdigits scaled digits into a 20x32 region of the 32x32 box
TARGET_INK = 0.305  # mean share of set pixels in an optdigits bitmap, whatever the digit
MAX_CROP = 48  # the cropped digit is analysed at most this tall (the box is 32)
MIN_CONTRAST = 0.15  # ink must differ from the paper by this much (0..1) to count as a digit
LINE_SPAN = 0.6  # a straight run this long (fraction of the side) is ruling, not a stroke
RULING_WIDTH = 4  # ruled lines are at most this thick (pixels) at the working size
SPECK_AREA = 0.05  # ink blobs under 5 % of the largest blob are dust


def decode_image(data, max_pixels):
    """Decode upload bytes into an upright image (first frame), reduced to about WORK_SIDE.

    Raises NotAnImage unless the content is one of ACCEPTED_FORMATS, and ImageTooLarge when the
    header declares more than `max_pixels` pixels, before any pixel data is decoded.
    """
    if not data:
        raise NotAnImage("The uploaded file is empty.")
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Exception as error:  # Pillow signals unreadable data with many exception types
        raise NotAnImage(_not_an_image_message()) from error
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLarge(_too_large_message(max_pixels, width, height))
    try:
        if image.format in ("JPEG", "MPO"):  # MPO: a phone's multi-picture JPEG
            # Decode straight at a reduced scale: a 12 MP photo then costs a fraction to read.
            image.draft(image.mode, _work_size(image.size))
        image = ImageOps.exif_transpose(image)
        image = _normalised_mode(image)
        image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    except Exception as error:  # truncated or corrupt pixel data fails only here, while decoding
        raise NotAnImage(_not_an_image_message("could not be decoded")) from error
    return image


def grayscale(image):
    """Luminance in [0, 1] (1 is white) of a decoded image; transparent areas become background.

    A canvas export keeps its drawing only in the alpha channel, so transparency is flattened
    onto the colour opposite to the ink's, whatever colour the ink is.
    """
    if image.mode == "LA":
        luminance, alpha = (np.asarray(band, dtype=np.float32) / 255 for band in image.split())
        drawn = alpha > 0.5
        if drawn.any() and not drawn.all():
            paper = 1.0 if luminance[drawn].mean() < 0.5 else 0.0
            return alpha * luminance + (1 - alpha) * paper
        return luminance
    return np.asarray(image, dtype=np.float32) / 255


def ink_strength(gray):
    """How much ink each pixel holds, in [0, 1]: paper 0 whatever its shade or lighting.

    Uneven lighting is removed by subtracting a plane fitted to the paper's shade. Polarity
    (dark ink on light paper, or light on dark) is whichever reading makes the ink stand out.
    """
    paper = _paper_surface(gray)
    readings = (np.clip(paper - gray, 0, 1), np.clip(gray - paper, 0, 1))
    return max(readings, key=lambda ink: float(np.percentile(ink, 99.9)))


def ink_mask(ink):
    """Pixels that are part of the digit: thresholded, ruling and dust removed.

    Raises NoDigitFound when nothing stands out from the paper.
    """
    strong = ink[ink > MIN_CONTRAST]
    if strong.size < 4:
        raise NoDigitFound(_no_digit_message())
    mask = ink > max(MIN_CONTRAST, 0.5 * float(np.percentile(strong, 90)))
    mask = _remove_ruling(mask)
    mask = _remove_specks(mask)
    if not mask.any():
        raise NoDigitFound(_no_digit_message())
    return mask


def fit_to_box(mask, box=BOX):
    """Crop the digit, straighten its slant, scale it to the box as optdigits did: full height,
    at most DIGIT_WIDTH wide (aspect kept below that), centred, strokes as thick as theirs."""
    digit = _upright(_crop(mask, MAX_CROP))
    padding = int(digit.shape[0] * 0.3) + 2
    thinner, thicker = 0.5, -0.25 * digit.shape[0]
    # Depths beyond the levels tried, plus the reach of the resize's filter, cannot matter.
    depth = binary.signed_depth(np.pad(digit, padding), inside=thinner + 4,
                                outside=-thicker + 4)
    # Bisect the stroke offset so the bitmap holds as much ink as an optdigits bitmap does.
    for _ in range(7):  # halving 7 times brings the level to a tenth of a pixel
        level = (thinner + thicker) / 2
        if _box_at_level(depth, level, box).sum() > TARGET_INK * box * box:
            thicker = level
        else:
            thinner = level
    return _box_at_level(depth, (thinner + thicker) / 2, box)


def block_counts(bitmap, block=BLOCK):
    """Count set pixels in each block x block tile: a 32x32 bitmap becomes 8x8 values 0..16."""
    side = bitmap.shape[0] // block
    return bitmap.reshape(side, block, side, block).sum(axis=(1, 3)).astype(np.uint8)


def upload_to_pixels(data, max_pixels):
    """The whole path: upload bytes -> the 8x8 counts the model sees."""
    gray = grayscale(decode_image(data, max_pixels))
    return block_counts(fit_to_box(ink_mask(ink_strength(gray))))


def _crop(mask, max_height):
    """The mask cut to the digit's bounding box, at most `max_height` rows tall."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    digit = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = digit.shape
    if height <= max_height:
        return digit
    size = (max(1, round(width * max_height / height)), max_height)
    # a low threshold keeps thin pen strokes; their width is normalised afterwards anyway
    coverage = Image.fromarray(digit.astype(np.float32)).resize(size, Image.Resampling.BOX)
    return np.asarray(coverage) > 0.25


def _upright(digit):
    """Shear the digit so its main axis is vertical: optdigits bitmaps are slant-corrected."""
    ys, xs = np.nonzero(digit)
    dy, dx = ys - ys.mean(), xs - xs.mean()
    slant = float(np.clip((dy * dx).sum() / max((dy * dy).sum(), 1.0), -1, 1))
    pad = int(abs(slant) * digit.shape[0] / 2) + 1
    wide = np.pad(digit, ((0, 0), (pad, pad))).astype(np.float32)
    sheared = binary.shear_rows(wide, slant, ys.mean())
    return _crop(sheared >= 0.5, digit.shape[0]) if (sheared >= 0.5).any() else digit


def _box_at_level(depth, level, box):
    """The bitmap of pixels at least `level` deep inside the stroke, fitted into the box."""
    inked = depth >= level
    rows = np.flatnonzero(inked.any(axis=1))
    cols = np.flatnonzero(inked.any(axis=0))
    region = depth[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = region.shape
    new_width = int(np.clip(round(width * box / height), 1, DIGIT_WIDTH * box // BOX))
    scaled = Image.fromarray(region.astype(np.float32)).resize((new_width, box),
                                                                Image.Resampling.BILINEAR)
    bitmap = np.zeros((box, box), dtype=bool)
    left = (box - new_width) // 2
    bitmap[:, left : left + new_width] = np.asarray(scaled) >= level
    return bitmap


def _work_size(size):
    scale = WORK_SIDE / max(size)
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


def _normalised_mode(image):
    """Bring any Pillow mode to L (grey) or LA (grey + alpha), 8 bits per channel."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "La"):
        return image.convert("LA")
    if image.mode in ("RGBa", "PA"):  # Pillow converts these to LA only through RGBA
        return image.convert("RGBA").convert("LA")
    if image.mode.startswith("I") or image.mode == "F":
        values = np.asarray(image, dtype=np.float32)
        full_scale = 65535.0 if values.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(values / full_scale * 255, 0, 255).astype(np.uint8))
    return image.convert("L")


def _paper_surface(gray, tiles=12, rounds=4):
    """A plane through the paper's shade: the light falling across a page.

    Fitted to tile medians, rejecting outliers on both sides, so ink of either polarity and
    covering up to about half the image does not pull it. A plane, not a curved surface, so
    that a large digit cannot be mistaken for a patch of shadow.
    """
    rows, cols = gray.shape
    tile_h, tile_w = max(1, rows // tiles), max(1, cols // tiles)
    count_y, count_x = rows // tile_h, cols // tile_w
    blocks = gray[: count_y * tile_h, : count_x * tile_w].reshape(count_y, tile_h, count_x, tile_w)
    values = np.median(blocks, axis=(1, 3)).ravel()
    terms = _plane_terms(np.linspace(0, 1, count_y), np.linspace(0, 1, count_x))
    keep = np.ones(values.shape, dtype=bool)
    for _ in range(rounds):
        coef, *_ = np.linalg.lstsq(terms[keep], values[keep], rcond=None)
        residual = values - terms @ coef
        spread = 1.4826 * np.median(np.abs(residual[keep]))
        keep = np.abs(residual) <= max(0.03, 3 * spread)
        if keep.sum() < 6:
            break
    ys, xs = np.linspace(0, 1, rows), np.linspace(0, 1, cols)
    return (coef[0] + coef[1] * xs[None, :] + coef[2] * ys[:, None]).astype(np.float32)


def _plane_terms(ys, xs):
    """Design matrix of a plane (1, x, y) over the grid ys x xs, row-major."""
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    return np.stack([np.ones(grid_x.size), grid_x.ravel(), grid_y.ravel()], axis=1)


def _remove_ruling(mask):
    """Drop ruled or squared paper lines: two or more long straight runs in one direction.

    Only the thin part goes: where a stroke crosses a line, the ink is thicker than the line
    across it, and stays.
    """
    for axis in (0, 1):
        band = binary.grow(mask, 1 - axis)  # each row (or column) with its two neighbours
        if not _may_hold_lines(band, axis):
            continue
        lines = _long_runs(mask, band, axis)
        if _count_lines(lines, axis) >= 2:
            across = 1 - axis
            stroke = binary.run_max(binary.run_min(mask, RULING_WIDTH + 1, across),
                                    RULING_WIDTH + 1, across)
            mask = mask & ~(lines & ~stroke)
    return mask


def _may_hold_lines(band, axis):
    """Cheap necessary condition for _long_runs: some band of 3 rows (or columns) has ink
    across at least LINE_SPAN of the side. Most uploads have no ruling and stop here."""
    return bool((band.sum(axis=axis) >= _line_length(band, axis)).any())


def _long_runs(mask, band, axis):
    """Pixels on straight runs along `axis` (1: horizontal) spanning LINE_SPAN of the image;
    `band` is the mask grown by one pixel across `axis`."""
    length = _line_length(mask, axis)
    opened = binary.run_max(binary.run_min(band, length, axis), length, axis)
    return mask & binary.grow(opened, 1 - axis)


def _line_length(mask, axis):
    """The shortest run along `axis` that counts as a ruled line."""
    return max(3, int(mask.shape[axis] * LINE_SPAN))


def _count_lines(lines, axis):
    return binary.count_runs(lines.any(axis=axis))


def _remove_specks(mask):
    labels, areas = binary.component_areas(mask)
    if len(areas) <= 1:
        return mask
    keep = np.concatenate(([False], areas >= SPECK_AREA * areas.max()))
    return keep[labels]


def _too_large_message(max_pixels, width, height):
    return (f"The image is {width}x{height} pixels; at most {max_pixels:,} pixels are accepted. "
            "Resize or crop it around the digit and try again.")


def _not_an_image_message(problem="is not an image"):
    return (f"The uploaded file {problem}. Send a PNG, JPEG, GIF, BMP, WebP or TIFF image of "
            "a handwritten digit.")


def _no_digit_message():
    return ("No digit was found: the image looks blank or uniform. Send an image with one "
            "handwritten digit that stands out from the paper.")
