"""Each stage of the reader's upload -> 8x8 path, in the order the data flows through it, run
through the reader itself (the path the service runs)."""

import io
import math
import shutil
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile, ImageFilter
from scipy import ndimage
from sklearn.datasets import load_digits

from bench.memory import encode as bench_encode
from conftest import READER, ROOT, encode, png_header, small_writing_page
from digits.core import decoding, ink, optdigits, reading
from digits.core.errors import ImageTooLarge, NoDigitFound, NotAnImage
from digits.lab import hostile
from digits.lab.evaluation import SPLITS, drawn_as_png, number_set
from digits.lab.uploads import render_number


def page(height=160, width=128, ink=20, paper=245):
    """Dark ink on light paper: a '7'-like shape, asymmetric so rotations show. It fits
    within WORK_SIDE, so its mask can be compared pixel for pixel."""
    image = np.full((height, width), paper, dtype=np.uint8)
    top, left = height // 5, width // 4
    image[top : top + 10, left : width - left] = ink  # the bar
    for row in range(top, height - height // 6):  # the stem, leaning left as it goes down
        col = width - left - 10 - (row - top) // 4
        image[row, col : col + 10] = ink
    return image


def mask_of(data):
    """The digit's ink as the reader reads it, in the work image's pixels (page() is small
    enough to be worked on at its own size): the reader's stages up to the line's region."""
    decoded, locate, read_lines = READER.decode(data), READER.stages()[1][1], READER.stages()[2][1]
    (region,) = read_lines(locate(decoded))
    (left, top), (height, width) = region.box[:2], region.mask.shape
    mask = np.zeros(decoded.grey.size[::-1], dtype=bool)
    mask[top : top + height, left : left + width] = region.mask
    return mask


def pixels_of(data):
    return READER.read_digit(data).pixels


REFERENCE = None


def reference():
    global REFERENCE
    if REFERENCE is None:
        REFERENCE = pixels_of(encode(page()))
    return REFERENCE


# --- decode_image: formats, modes, orientation, frames, limits --------------------------------

@pytest.mark.parametrize("fmt, params", [("PNG", {}), ("JPEG", {"quality": 95}), ("GIF", {}),
                                         ("BMP", {}), ("WEBP", {"quality": 95}),
                                         ("TIFF", {"compression": "tiff_lzw"}),
                                         ("AVIF", {"quality": 95})])
def test_every_accepted_format_gives_the_same_digit(fmt, params):
    pixels = pixels_of(encode(page(), fmt, **params))
    assert np.abs(pixels.astype(int) - reference()).mean() < 1.0


@pytest.mark.parametrize("convert", [
    lambda im: im.convert("P"),
    lambda im: im.convert("1"),
    lambda im: im.convert("CMYK"),
    lambda im: im.convert("RGB"),
    lambda im: im.convert("LA"),
    lambda im: Image.fromarray(np.asarray(im, dtype=np.uint16) * 257),  # 16-bit grey
], ids=["palette", "1-bit", "cmyk", "rgb", "la", "16-bit"])
def test_every_mode_gives_the_same_digit(convert):
    fmt = "JPEG" if "CMYK" in repr(convert(Image.new("L", (1, 1)))) else "TIFF"
    pixels = pixels_of(encode(convert(Image.fromarray(page())), fmt))
    assert np.abs(pixels.astype(int) - reference()).mean() < 1.0


@pytest.mark.parametrize("fmt", ["JPEG", "AVIF"])  # AVIF keeps it as irot/imir boxes
def test_exif_orientation_is_applied(fmt):
    sideways = Image.fromarray(page()).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the camera was held sideways
    pixels = pixels_of(encode(sideways.convert("RGB"), fmt, quality=95, exif=exif.tobytes()))
    assert np.abs(pixels.astype(int) - reference()).mean() < 1.0


def test_animated_gif_uses_the_first_frame():
    first = Image.fromarray(page())
    second = Image.fromarray(np.full((160, 128), 245, np.uint8))
    data = encode(first, "GIF", save_all=True, append_images=[second] * 5)
    assert np.abs(pixels_of(data).astype(int) - reference()).mean() < 1.0


def test_declared_size_over_the_limit_is_refused_before_decoding():
    with pytest.raises(ImageTooLarge, match="60000x60000"):
        decoding.decode_image(png_header(60000, 60000))


@pytest.mark.parametrize("data", [b"", b"GIF89a", b"not an image at all", b"%PDF-1.7\n",
                                  b"<svg/>", b"PK\x03\x04zipfile"])
def test_non_images_are_not_an_image(data):
    with pytest.raises(NotAnImage):
        decoding.decode_image(data)


# An iPhone photo starts with a HEIF `ftyp` box: an HEVC brand as major brand, or after `mif1`.
HEIC_STARTS = [b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
               b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1MiHEheix"]


@pytest.mark.parametrize("start", HEIC_STARTS, ids=["heic", "mif1-heix"])
def test_heic_is_refused_as_heic(start):
    with pytest.raises(NotAnImage, match=r"HEIC/HEIF image") as refused:
        decoding.decode_image(start + bytes(200))
    assert refused.value.reason == "heic"


@pytest.mark.parametrize("bits", [8, 4])
def test_a_run_length_bmp_is_refused_before_its_pixels_are_decoded(monkeypatch, bits):
    # Pillow decodes RLE in Python: this 4 kB file's padding is a million steps of its loop
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: pytest.fail("decoded"))
    with pytest.raises(NotAnImage, match=r"run-length compressed \(RLE\) BMP") as refused:
        decoding.decode_image(hostile.run_length_bmp(1000, 1000, bits))
    assert refused.value.reason == "bmp-rle"


def test_an_uncompressed_bmp_is_read():
    assert decoding.decode_image(encode(Image.fromarray(page()), "BMP")).size == (
        page().shape[1], page().shape[0])


def test_an_avif_is_not_taken_for_heic():
    data = encode(Image.fromarray(page()), "AVIF")
    assert data[4:12] == b"ftypavif" and not decoding._is_hevc_heif(data)
    with pytest.raises(NotAnImage, match="could not be decoded|is not an image") as refused:
        decoding.decode_image(data[:60])  # a broken AVIF gets the general message
    assert "HEIC" not in str(refused.value)


def test_a_format_outside_the_allowlist_is_refused_by_content():
    with pytest.raises(NotAnImage):  # ICO decodes in Pillow, but is not accepted
        decoding.decode_image(encode(Image.fromarray(page()).resize((64, 64)), "ICO"))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_huge_images_are_reduced_for_work(fmt):
    big = Image.fromarray(page()).resize((4000, 3000))  # 12 MP: a PNG of it in grey
    decoded = decoding.decode_image(encode(big.convert("RGB" if fmt == "JPEG" else "L"), fmt))
    assert max(decoded.grey.size) <= 1.5 * decoding.WORK_SIDE
    assert decoded.size == (4000, 3000)
    assert decoded.scale[0] == pytest.approx(4000 / decoded.grey.size[0])


# --- grayscale: transparency -----------------------------------------------------------------

@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (30, 60, 200)])
def test_a_transparent_canvas_keeps_its_drawing_whatever_the_ink_colour(colour):
    rgba = np.zeros((160, 128, 4), dtype=np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = 255 - page()  # ink opaque, paper fully transparent
    pixels = pixels_of(encode(Image.fromarray(rgba, "RGBA")))
    assert np.abs(pixels.astype(int) - reference()).mean() < 1.0


def test_palette_with_transparency():
    indexed = Image.fromarray((page() < 128).astype(np.uint8), "P")
    indexed.putpalette([0, 0, 0, 0, 0, 0])  # both black: only transparency tells them apart
    pixels = pixels_of(encode(indexed, "PNG", transparency=0))
    assert np.abs(pixels.astype(int) - reference()).mean() < 1.0


# the reference, Pillow's own convert("L") of a palette with an alpha per index, warns that
# such images should go to RGBA first; the reader looks the bands up and does not convert
@pytest.mark.filterwarnings("ignore:Palette images with Transparency:UserWarning")
@pytest.mark.parametrize("transparency", [None, 3, bytes(range(0, 256, 32))],
                         ids=["opaque", "one-index", "alpha-per-index"])
def test_a_palette_is_read_as_pillow_converts_it(transparency):
    """The grey and alpha bands are looked up from the indices, the same as Pillow's own
    conversion of every pixel, whatever the palette."""
    rng = np.random.default_rng(0)
    indexed = Image.fromarray(rng.integers(0, 40, (120, 90)).astype(np.uint8), "P")
    indexed.putpalette(rng.integers(0, 256, 3 * 40).astype(np.uint8).tolist())
    options = {} if transparency is None else {"transparency": transparency}
    upload = Image.open(io.BytesIO(encode(indexed, "PNG", **options)))
    decoded = decoding.decode_image(encode(indexed, "PNG", **options))
    assert np.array_equal(np.asarray(decoded.detail), np.asarray(upload.convert("L")))
    if transparency is None:
        assert decoded.detail_alpha is None
    else:
        assert np.array_equal(np.asarray(decoded.detail_alpha),
                              np.asarray(upload.convert("RGBA").getchannel("A")))


# --- ink_strength and ink_levels: polarity, lighting, ruling, dust, blanks ---------------------

# Pages small enough that the digit is read back at its own size, pixel for pixel.
SMALL = {"height": 80, "width": 64}


def test_light_ink_on_dark_gives_the_same_mask_as_dark_on_light():
    assert (mask_of(encode(255 - page(**SMALL))) == mask_of(encode(page(**SMALL)))).mean() > 0.99


def test_uneven_lighting_is_not_ink():
    lit = page(**SMALL).astype(float) * np.linspace(0.45, 1.0, 64)[None, :]
    mask = mask_of(encode(lit.astype(np.uint8)))
    assert (mask == (page(**SMALL) < 128)).mean() > 0.98


def test_ruled_lines_are_removed_and_the_digit_kept():
    ruling = np.full((160, 128), 255, dtype=np.uint8)
    ruling[::25, :] = 60  # dark enough to pass the ink threshold: only their shape gives them away
    ruling[1::25, :] = 60
    located = READER.read_number(encode(np.minimum(page(), ruling)))
    assert len(located.digits) == 1 and not located.marks, "a ruled line was taken for ink"
    assert located.digits[0].box == READER.read_digit(encode(page())).box
    assert np.abs(pixels_of(encode(np.minimum(page(), ruling))).astype(int)
                  - reference()).mean() < 1.0


def squared_page(offset, grid):
    """'010.0' written 120 pixels tall with a 16-pixel pen on a 560x200 page under a grid of
    3-pixel lines 40 apart (`offset`: where the first falls, `grid`: their grey): too thin for
    the page's 64-pixel copy to show them, but ink at the line's own size."""
    image = Image.new("L", (560, 200), 245)
    draw = ImageDraw.Draw(image)
    for y in range(offset, 200, 40):
        draw.line([(0, y), (560, y)], fill=grid, width=3)
    for x in range(offset + 4, 560, 40):
        draw.line([(x, 0), (x, 200)], fill=grid, width=3)
    for left in (60, 270, 390):
        draw.ellipse([left, 40, left + 70, 160], outline=20, width=16)
    draw.line([(200, 40), (200, 160)], fill=20, width=16)
    draw.ellipse([355, 148, 369, 162], fill=20)  # the point, on the baseline
    return encode(np.asarray(image))


@pytest.mark.parametrize("offset", [0, 15, 20, 25])
@pytest.mark.parametrize("grid", [60, 90])
def test_a_grid_too_fine_for_the_small_copy_is_not_read_as_ink(offset, grid):
    """Squared paper whose lines the page's small copy cannot show: at the line's size they
    are ink, and were read as strokes of the digits they cross (an extra 1 or 3) or joined the
    point sitting on one of them into a line too long to be a mark."""
    assert READER.read_number(squared_page(offset, grid)).number == "010.0"


def rules_and_strokes(height=60, width=300):
    """A line region's ink: a ring and a bar 6 pixels thick, a point under a 2-pixel-wide
    stroke that stops short of the region's edges and a dash 3 pixels thick, crossed by a grid
    of 1-pixel rules 20 apart: (the strokes, the rules)."""
    strokes = np.zeros((height, width), dtype=bool)
    rows, cols = np.mgrid[:height, :width]
    radius = np.hypot((rows - 30) / 22, (cols - 60) / 14)
    strokes |= (radius <= 1) & (radius >= 0.6)
    strokes[8:52, 112:118] = True  # the bar
    strokes[46:52, 140:146] = True  # the point, on the baseline
    strokes[6:54, 170:172] = True  # a thin stroke of a digit, inside the region
    strokes[28:31, 200:225] = True  # a dash
    rules = np.zeros_like(strokes)
    rules[10::20, :] = True
    rules[:, 5::20] = True
    return strokes, rules & ~strokes


@pytest.mark.parametrize("faded", [False, True], ids=["whole", "ends faded"])
def test_thin_rules_are_removed_and_every_stroke_kept(faded):
    """A line region's rules thinner than its pen go, crossings and all, but for a pixel where
    one touches a stroke; the strokes crossing them, the point sitting on one, the dash and a
    digit's thin stroke that ends inside the region all stay (a rule crosses the region). A
    grid's vertical rules whose ends the ink threshold lost (they stop short of the region's
    top and bottom, as that thin stroke does) go too: they lie on one lattice, and the stroke
    falls between its columns."""
    strokes, rules = rules_and_strokes()
    if faded:
        rules[:7] = rules[-6:] = False
    stubs = rules & ndimage.binary_dilation(strokes, iterations=4)  # near a stroke: as it is read
    kept = ink.without_thin_rules(strokes | rules, strokes | stubs)
    assert not (kept & ~ndimage.binary_dilation(strokes)).any(), "a rule was kept"
    lost = strokes & ~kept
    assert lost.sum() <= 4 and not (lost & ~ndimage.binary_dilation(rules)).any()
    for part in (np.s_[46:52, 140:146], np.s_[6:54, 170:172], np.s_[28:31, 200:225]):
        assert kept[part].all(), "the point, the thin stroke or the dash was lost"


@pytest.mark.parametrize("length", [1, 2, 3, 5])
@pytest.mark.parametrize("axis", [0, 1])
def test_the_rules_morphology_is_scipy_s(length, axis):
    """The rules' runs and widening are scipy's binary opening by a line and size-3 maximum
    filter, written with numpy slices for speed: the same pixels, edges included."""
    rng = np.random.default_rng(length * 2 + axis)
    line = np.ones((length, 1) if axis == 0 else (1, length), dtype=bool)
    for shape in [(1, 7), (4, 3), (40, 90), (64, 300)]:
        mask = rng.random(shape) < 0.4
        assert (ink._in_runs(mask, length, axis) == ndimage.binary_opening(mask, line)).all()
        assert (ink._widened(mask, axis) == ndimage.maximum_filter1d(mask, 3, axis=axis)).all()
    edge = mask & ~ndimage.binary_erosion(mask)
    assert ink.stroke_width(mask) == 2.0 * mask.sum() / edge.sum()


def test_a_grid_is_the_lattice_most_of_its_columns_fall_on():
    """Columns of thin ink on one lattice: its every column, those a digit hid included; a
    column off it (a digit's thin stroke) and columns on no lattice of three are not a grid."""
    filled = np.zeros(300, dtype=bool)
    filled[[5, 25, 45, 46, 65, 170, 171, 285]] = True
    assert list(np.flatnonzero(ink.grid_columns(filled, 60))) == list(range(5, 300, 20))
    two = np.zeros(300, dtype=bool)
    two[[40, 100, 171]] = True  # 60 and 71 apart: no lattice holds three
    assert not ink.grid_columns(two, 60).any()
    close = np.zeros(300, dtype=bool)
    close[[40, 50, 60, 70]] = True  # strokes 10 pixels apart, finer than any grid square
    assert not ink.grid_columns(close, 60).any()


@pytest.mark.parametrize("index", [14, 181, 230])
def test_handwritten_numbers_on_a_pale_grid_are_read_without_its_rules(index):
    """Dev numbers on squared paper (tight) whose pale vertical rules start rows below the
    line's top: read with an extra digit (a rule beside a digit read as a 1) while only rules
    reaching the region's top and bottom went, with the right count as a lattice's."""
    images, labels = number_set("dev", 240)[index]
    data = render_number(images, "squared", "tight", SPLITS["dev"].start + index)
    assert len(READER.read_number(data).digits) == len(labels)


def test_a_thin_pen_s_strokes_are_not_rules():
    """Where the pen is as thin as the rules, nothing is taken for one."""
    strokes, rules = rules_and_strokes()
    thin = strokes & ~ndimage.binary_erosion(strokes)  # the strokes' outlines
    assert (ink.without_thin_rules(thin | rules, thin) == (thin | rules)).all()


def test_small_writing_is_located_again_finer_and_large_writing_is_not():
    """Writing 2-3 pixels tall on the page's 64-pixel copy is located again on a finer copy,
    where each of its 15 digits is a component of its own; a digit that fills the page is
    located on the small copy alone (no second pass to pay for)."""
    locate = READER.stages()[1][1]
    small = locate(READER.decode(small_writing_page()))
    assert small.zoom > 1 and len(small.components) == 15
    assert locate(READER.decode(encode(page()))).zoom == 1


def test_a_thin_stroke_located_again_finer_keeps_its_length():
    """U-shaped strokes 6 pixels wide on a 496x640 page (the worst-case benchmark's narrow
    blobs, 60 pixels tall), located again on a finer copy: there a stroke can fall between two
    pixels, each fainter than the strokes that set that copy's own level (an arm was cut to a
    third of its length). At the small copy's level every one of each line's 8 arms keeps the
    line's full height."""
    from bench.worst import narrow_lines

    locate, read_lines = READER.stages()[1][1], READER.stages()[2][1]
    page_of_us = locate(READER.decode(narrow_lines(height=60)))
    assert page_of_us.zoom > 1
    for region in read_lines(page_of_us):
        rows = region.mask.any(axis=1)
        arms = region.mask.sum(axis=0) >= 0.8 * rows.sum()
        assert np.count_nonzero(arms[1:] & ~arms[:-1]) + arms[0] == 8


def test_dust_specks_are_removed():
    dusty = page(**SMALL)
    for y, x in [(2, 2), (76, 60), (40, 2), (2, 58)]:
        dusty[y : y + 2, x : x + 2] = 0
    assert (mask_of(encode(dusty)) == (page(**SMALL) < 128)).all()


@pytest.mark.parametrize("image", [
    np.full((100, 100), 255, np.uint8),
    np.full((100, 100), 0, np.uint8),
    np.random.default_rng(0).integers(120, 135, (100, 100)).astype(np.uint8),
    np.tile(np.linspace(60, 250, 100), (100, 1)).astype(np.uint8),  # a smooth gradient
], ids=["white", "black", "faint-noise", "gradient"])
def test_blank_or_uniform_images_have_no_digit(image):
    with pytest.raises(NoDigitFound):
        READER.read_digit(encode(image))


# --- fit_to_box and block_counts: the optdigits geometry -------------------------------------

def test_fit_to_box_fills_the_height_keeps_width_within_20_and_centres():
    bitmap = optdigits.fit_to_box(page() < 128)
    rows, cols = np.flatnonzero(bitmap.any(axis=1)), np.flatnonzero(bitmap.any(axis=0))
    assert bitmap.shape == (32, 32)
    assert rows[0] == 0 and rows[-1] == 31
    assert cols[-1] - cols[0] + 1 <= optdigits.DIGIT_WIDTH
    assert abs((cols[0] + cols[-1]) / 2 - 15.5) <= 1


@pytest.mark.parametrize("stroke", [2, 6, 20], ids=["thin-pen", "pen", "marker"])
def test_fit_to_box_gives_optdigits_stroke_weight_whatever_the_pen(stroke):
    mask = np.zeros((300, 300), dtype=bool)
    rows, cols = np.ogrid[:300, :300]
    distance = np.hypot((rows - 150) / 130, (cols - 150) / 90)  # a '0': an upright ring
    mask[np.abs(distance - 1) * 110 <= stroke / 2] = True
    bitmap = optdigits.fit_to_box(mask)
    assert bitmap.mean() == pytest.approx(optdigits.TARGET_INK, abs=0.03)


def test_the_pen_weight_keeps_the_inked_pixels_that_are_darkest_and_no_blank_ones():
    canvas = np.zeros((40, 40), dtype=np.float32)  # mostly blank, as a digit's canvas is
    canvas[10, :20] = np.arange(1, 21)
    canvas[20, :5] = 20  # ties with the darkest: all of them kept
    ordered = np.sort(canvas.reshape(1, -1), axis=1)
    inked = np.count_nonzero(canvas, keepdims=True).ravel()

    def kept(count):
        return canvas >= optdigits._least_kept(ordered, inked, np.array([count]))[0]

    assert np.count_nonzero(kept(3)) == 6
    assert np.array_equal(kept(7), canvas >= 19)
    assert np.array_equal(kept(30), canvas > 0)  # fewer than asked


def test_masks_fitted_together_give_what_each_gives_alone():
    """A search's pieces are fitted in one call: each of them, whatever its size, slant or
    stroke, and however much larger the others, comes out as it does fitted alone."""
    rng = np.random.default_rng(5)
    # a digit; an L tall enough to be reduced first; a stroke too thin for the warp's samples
    tall = np.zeros((300, 120), dtype=bool)
    tall[:, :12] = tall[-12:] = True
    masks = [page() < 128, tall, np.ones((100, 1), dtype=bool)]
    for height, width in [(32, 28), (64, 150), (20, 9), (45, 45)]:
        blob = ndimage.binary_dilation(rng.random((height, width)) < 0.03, iterations=2)
        masks.append(blob)
    alone = np.stack([optdigits.fit_to_boxes([mask])[0] for mask in masks])
    together = optdigits.fit_to_boxes(masks)
    assert together.shape == (len(masks), 32, 32)
    assert [np.array_equal(one, both) for one, both in zip(alone, together)] == [True] * 7
    assert len({one.tobytes() for one in alone}) == 7  # seven different bitmaps
    assert optdigits.fit_to_boxes([]).shape == (0, 32, 32)


@pytest.mark.parametrize("stroke", [2, 6, 20], ids=["thin-pen", "pen", "marker"])
def test_a_single_straight_stroke_is_as_heavy_as_optdigits_ones(stroke):
    # their plainest 1s hold 0.18-0.31 of the box; one blur leaves a plain stroke at 0.16
    mask = np.zeros((300, 300), dtype=bool)
    mask[30:270, 150 - stroke // 2 : 150 - stroke // 2 + stroke] = True
    assert 0.24 <= optdigits.fit_to_box(mask).mean() <= optdigits.TARGET_INK + 0.03


def test_slanted_writing_is_stood_upright():
    slanted = np.zeros((200, 200), dtype=bool)
    for row in range(20, 180):
        col = 60 + (row - 20) // 2  # leaning by 1 in 2
        slanted[row, col : col + 10] = True
    bitmap = optdigits.fit_to_box(slanted)
    cols = np.flatnonzero(bitmap.any(axis=0))
    assert cols[-1] - cols[0] + 1 <= 12  # a straight stroke, not a wide diagonal


def test_block_counts_counts_set_pixels_per_4x4_block():
    bitmap = np.zeros((32, 32), dtype=bool)
    bitmap[:4, :4] = True
    bitmap[4:8, 4:6] = True
    bitmap[28:, 31] = True
    counts = optdigits.block_counts(bitmap)
    assert counts.shape == (8, 8)
    assert counts[0, 0] == 16 and counts[1, 1] == 8 and counts[7, 7] == 4
    assert counts.sum() == bitmap.sum()


def test_load_digits_drawn_as_png_come_back_close_to_themselves():
    images = load_digits().data[:100]
    restored = np.array([pixels_of(drawn_as_png(image)).ravel() for image in images])
    correlation = [np.corrcoef(a, b)[0, 1] for a, b in zip(restored, images)]
    assert np.mean(correlation) > 0.8
    assert restored.sum(axis=1).mean() == pytest.approx(images.sum(axis=1).mean(), rel=0.1)


def test_tiny_and_huge_uploads_both_work():
    tiny = pixels_of(encode(Image.fromarray(page()).resize((21, 28))))
    huge = pixels_of(encode(Image.fromarray(page()).resize((3000, 4000)).convert("RGB"), "JPEG"))
    assert np.abs(tiny.astype(int) - reference()).mean() < 1.5
    assert np.abs(huge.astype(int) - reference()).mean() < 1.0


# --- the bounds on decoding: each accepted file's cost, checked from its header --------------

def blank(mode, size):
    """A white page (of `mode`) with one dark stroke, cheap to encode at any size."""
    deep = mode in ("I;16", "I", "F")
    image = Image.new(mode if deep else "L", size, 60000 if deep else 255)
    image.paste(0, (size[0] // 2, size[1] // 4, size[0] // 2 + max(1, size[0] // 50),
                    size[1] * 3 // 4))
    return image if deep else image.convert(mode)


MEMORY = r"decoding it would take [\d,]+ MB of memory, over the 67 MB allowed by [\d,]+ MB"
PIXEL_DATA = (r"decoding it would take as long as [\d,]+ MB of pixel data, over the 21 MB allowed "
              r"by [\d,]+ MB")


@pytest.mark.parametrize("mode, fmt, size, params, refusal", [
    ("RGB", "JPEG", (4000, 3000), {}, None),  # a 12 MP phone photo: decoded at 1/8 scale
    # progressive: every coefficient is decoded, whatever the scale (12 MP + 2 x 3 MP chroma)
    ("RGB", "JPEG", (4000, 3000), {"progressive": True}, None),
    ("L", "JPEG", (5000, 5000), {}, None),  # 25 MP baseline: decoded at 1/8 scale
    ("L", "JPEG", (5000, 5000), {"progressive": True}, PIXEL_DATA),  # 25 M coefficients
    ("L", "PNG", (2480, 3508), {}, None),  # a 300 dpi A4 grey scan (8.7 MB)
    ("RGB", "PNG", (2480, 3508), {}, PIXEL_DATA),  # ... in colour (26 MB)
    ("RGBA", "PNG", (2560, 1440), {}, None),  # a 1440p screenshot (15 MB, and its 2 bands)
    ("RGB", "PNG", (1920, 1080), {}, None),  # a 1080p screenshot (6 MB)
    ("RGB", "PNG", (3840, 2160), {}, PIXEL_DATA),  # a 4K one (25 MB)
    ("I;16", "PNG", (2480, 3508), {}, PIXEL_DATA),  # a 16-bit A4 scan: 17 MB, 35 with its scaling
    ("L", "TIFF", (4961, 7016), {"compression": "tiff_lzw"}, PIXEL_DATA),  # 600 dpi A4 grey
    ("RGBA", "PNG", (6000, 6000), {}, MEMORY),  # 36 MP: under the pixel limit, 288 MB to decode
    ("I;16", "PNG", (6000, 6000), {}, MEMORY),  # 16-bit grey: 2 bytes a pixel, and 4 to scale
    ("RGB", "WEBP", (4000, 4000), {"lossless": True}, MEMORY),  # libwebp's buffer and Pillow's
    ("RGB", "WEBP", (2000, 2000), {}, None),  # 4 MP: 64 MB to decode, 16 bytes a pixel in all
    ("RGB", "WEBP", (2150, 2150), {}, MEMORY),  # 4.6 MP: 74 MB (reckoned at 14 a pixel, 65)
    ("L", "TIFF", (4961, 7016), {"compression": "tiff_adobe_deflate",
                                 "tiffinfo": {278: 7016}}, MEMORY),  # one strip: a second copy
    ("RGB", "AVIF", (1600, 1200), {}, None),  # a 2 MP AVIF photo
    # 4.3 MP, 8 bits 4:2:0 as its header says: 11.5 bytes a pixel (refused when reckoned as the
    # costliest AVIF, 12 bits 4:4:4, at 18)
    ("RGB", "AVIF", (2400, 1800), {}, None),
    ("RGB", "AVIF", (4000, 3000), {}, MEMORY),  # 12 MP: no reduced decoding
], ids=["12MP-jpeg", "12MP-progressive-jpeg", "25MP-grey-jpeg", "25MP-progressive-grey-jpeg",
        "A4-300dpi-grey-png", "A4-300dpi-rgb-png", "1440p-rgba-png", "1080p-rgb-png",
        "4k-rgb-png", "A4-300dpi-16bit-png", "A4-600dpi-grey-tiff",
        "36MP-rgba-png", "36MP-16bit-png", "16MP-lossless-webp", "4MP-webp", "4.6MP-webp",
        "A4-600dpi-one-strip-tiff",
        "2MP-avif", "4.3MP-avif", "12MP-avif"])
def test_decoding_cost_is_bounded_before_decoding(mode, fmt, size, params, refusal):
    data = encode(blank(mode, size), fmt, **params)
    if refusal is None:
        assert decoding.decode_image(data).size == size
    else:
        with pytest.raises(ImageTooLarge, match=refusal):
            decoding.decode_image(data)


def test_the_pixel_data_limit_is_a_setting():
    data = encode(blank("RGB", (1000, 1000)), "PNG")  # 3 bytes a pixel as stored
    work = 3_000_000 + len(data) + 3 * 1024  # each coded byte inflated, 3 chunks walked
    assert decoding.decode_image(data, decoding.Limits(pixel_data=work)).size == (1000, 1000)
    with pytest.raises(ImageTooLarge, match="3 MB of pixel data, over the 3 MB allowed by 0 MB"):
        decoding.decode_image(data, decoding.Limits(pixel_data=work - 1))


def noise(mode, size, seed=0):
    """A page of grain at full contrast: the densest coded file of its size."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB").convert(mode)


@pytest.mark.parametrize("fmt, params, side", [
    ("AVIF", {"quality": 100}, 1000),  # an AV1 decoder's coded byte costs as 16 inflated ones:
    ("WEBP", {"quality": 100}, 1300),  # VP8's 12-14; grain as dense decoded in 142 and 141 ms
    ("JPEG", {"quality": 100, "progressive": True}, 2000),  # a progressive JPEG's scans: 6
])
def test_an_upload_dense_with_coded_bytes_is_refused_where_a_plain_one_of_its_size_is_read(
        fmt, params, side):
    size = (side, side)
    plain, dense = (encode(image, fmt, **params) for image in (blank("RGB", size),
                                                               noise("RGB", size)))
    assert decoding.decode_image(plain).size == size
    assert len(dense) < 10 * 1024 * 1024  # an upload the service takes
    with pytest.raises(ImageTooLarge, match=PIXEL_DATA):
        decoding.decode_image(dense)


def test_a_progressive_jpegs_scans_beyond_an_encoders_count_each_walk_its_coefficients():
    # a 38 kB JPEG whose last scan (14 bytes) came 1,000 times more took a worker 2.5 s
    plain = hostile.rescanned_jpeg(2000, 0)
    coefficients = 2000 * 2000
    image = Image.open(io.BytesIO(plain))
    assert image.info["progressive"] and plain.count(b"\xff\xda") == 6  # Pillow's script
    assert decoding.pixel_data(image, plain) == coefficients
    more = hostile.rescanned_jpeg(2000, 14)  # 20 scans: 10 past an encoder's
    assert decoding.pixel_data(Image.open(io.BytesIO(more)), more) == coefficients * (1 + 10 / 4)
    assert decoding.decode_image(more).size == (2000, 2000)
    with pytest.raises(ImageTooLarge, match=PIXEL_DATA):
        decoding.decode_image(hostile.rescanned_jpeg(2000, 1000))


def test_a_lossless_webps_coded_bytes_are_weighed_as_the_cheaper_coding_they_are():
    # VP8L decodes a byte in 8-11 ns, VP8 in 47-56: grain as dense read one way, refused the other
    size = (1300, 1300)
    lossless, lossy = (encode(noise("RGB", size), "WEBP", **params)
                       for params in ({"lossless": True}, {"quality": 100}))
    work = {name: decoding.coded_work(Image.open(io.BytesIO(data)), data, segments=0)
            for name, data in (("lossless", lossless), ("lossy", lossy))}
    assert work == {"lossless": 3 * len(lossless), "lossy": 15 * len(lossy)}
    assert decoding.decode_image(lossless).size == size
    with pytest.raises(ImageTooLarge, match=PIXEL_DATA):
        decoding.decode_image(lossy)


@pytest.mark.parametrize("mode, params", [("RGBA", {"quality": 90}), ("RGBA", {"lossless": True}),
                                          ("RGB", {"quality": 90}), ("RGB", {"lossless": True})])
def test_a_webps_coding_is_read_from_its_chunks(mode, params):
    # an RGBA lossy WebP is an extended file: VP8X and ALPH chunks before its VP8 one
    data = encode(blank(mode, (64, 64)), "WEBP", **params)
    assert decoding._is_lossy_webp(data) == ("quality" in params)


@pytest.mark.parametrize("params", [{"quality": 90}, {"lossless": True}])
def test_an_animated_webps_coding_is_read_from_its_first_frames_chunks(params):
    # an ANMF chunk's frame header (16 bytes) comes before the frame's own chunks
    frames = [blank("RGB", (64, 64)), Image.new("RGB", (64, 64), "black")]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], **params)
    assert b"ANMF" in data and decoding._is_lossy_webp(data) == ("quality" in params)


def test_the_decoding_budget_is_a_setting():
    data = encode(blank("L", (1000, 1000)), "PNG")
    assert decoding.decode_image(data, decoding.Limits(decoded_bytes=2_000_000)).size == (1000,
                                                                                          1000)
    with pytest.raises(ImageTooLarge, match="over the 1 MB allowed"):
        decoding.decode_image(data, decoding.Limits(decoded_bytes=999_999))


@pytest.mark.parametrize("mode", ["1", "L", "P", "LA", "RGB", "RGBA", "CMYK", "I;16", "I", "F"])
def test_the_decoding_cost_counts_the_decoded_pixels_and_the_grey_bands(mode):
    data = encode(blank(mode, (100, 50)), "TIFF")
    image = Image.open(io.BytesIO(data))
    per_pixel = {"1": 2, "L": 1, "P": 2, "LA": 6, "RGB": 4, "RGBA": 6, "CMYK": 9, "I;16": 6,
                 "I": 4, "F": 4}[mode]
    strip = decoding._tiff_buffer(image)
    assert decoding.decoding_cost(image, data) == 100 * 50 * per_pixel + strip


@pytest.mark.parametrize("mode, per_pixel", [
    ("1", 1.5), ("L", 1), ("P", 1.5), ("P transparency", 2), ("LA", 3), ("RGB", 3), ("RGBA", 5),
    ("CMYK", 6.5), ("I;16", 4), ("I", 4), ("F", 4)])
def test_the_pixel_data_counts_the_stored_bytes_and_half_a_byte_a_band(mode, per_pixel):
    # a band made at full size (grey, alpha, 16 bits scaled) is a pass over every pixel
    params = {"transparency": 0} if mode == "P transparency" else {}
    data = encode(blank(mode.split()[0], (100, 50)), "PNG" if mode in (
        "P", "P transparency", "I;16") else "TIFF", **params)
    assert decoding.pixel_data(Image.open(io.BytesIO(data)), data) == 100 * 50 * per_pixel


@pytest.mark.parametrize("make", [lambda width, height, channels=3: hostile.black_png(
    width, height, channels, 16), lambda width, height, channels=3: hostile.black_tiff(
    width, height, channels, 16)], ids=["png", "tiff"])
def test_sixteen_bit_colour_is_reckoned_at_the_bytes_its_file_stores(make):
    # Pillow reads 48-bit RGB into 8-bit RGB: its data is 6 bytes a pixel, 8 with alpha (and its
    # grey and alpha bands, half a byte each); reckoned as RGB's 3, the largest 48-bit PNG
    # accepted took a worker 111 ms to decode
    for channels, per_pixel in ((3, 6), (4, 8 + 1)):
        data = make(100, 50, channels)
        image = Image.open(io.BytesIO(data))
        assert decoding.pixel_data(image, data) == 100 * 50 * per_pixel
    assert decoding.decode_image(make(1800, 1800)).size == (1800, 1800)  # 19 MB
    with pytest.raises(ImageTooLarge, match=PIXEL_DATA):
        decoding.decode_image(make(2000, 2000))  # 24 MB: it was reckoned 12


def test_an_interlaced_png_is_reckoned_a_byte_a_pixel_more_for_putting_its_passes_together():
    # the largest interlaced grey PNG took a worker 128 ms to decode, 68 ms plain
    plain, interlaced = (hostile.black_png(100, 50, interlaced=flag) for flag in (False, True))
    assert [decoding.pixel_data(Image.open(io.BytesIO(data)), data)
            for data in (plain, interlaced)] == [100 * 50, 100 * 50 * 2]
    assert decoding.decode_image(hostile.black_png(4000, 4000)).size == (4000, 4000)  # 16 MB
    with pytest.raises(ImageTooLarge, match=PIXEL_DATA):
        decoding.decode_image(hostile.black_png(4000, 4000, interlaced=True))  # and 16 more


def test_an_uncompressed_tiff_is_read_whole_by_libtiff_not_a_tile_a_strip():
    # Pillow's own reader made a tile of each strip: a 9 MB TIFF one pixel wide, a strip a row,
    # took 4 s and 450 MB to open and load
    image = Image.open(io.BytesIO(hostile.black_tiff(64, 1000, rows_per_strip=1)))
    assert image.info["compression"] == "raw" and len(image.tile) == 1
    assert image.tile[0].codec_name == "libtiff"


@pytest.mark.parametrize("mode", ["1", "L", "LA", "RGB", "RGBA", "I;16"])
def test_an_uncompressed_tiff_read_by_libtiff_gives_the_pixels_its_png_does(mode):
    grain = np.random.default_rng(0).integers(0, 256, (37, 53, 4), dtype=np.uint8)
    image = Image.fromarray(grain, "RGBA")
    image = image.convert(mode) if mode != "I;16" else Image.fromarray(grain[..., 0]).convert(mode)
    tiff, png = (decoding.decode_image(encode(image, fmt)) for fmt in ("TIFF", "PNG"))
    assert np.array_equal(np.asarray(tiff.detail), np.asarray(png.detail))
    assert (tiff.alpha is None) == (png.alpha is None)


def test_a_tiffs_strips_count_beside_its_bytes():
    # libtiff's reading of a strip costs about 95 ns whatever its size: a million strips of a
    # pixel each took 101 ms, 1 MB of pixel data
    few, many = (hostile.black_tiff(1, height, rows_per_strip=1) for height in (100_000,
                                                                               1_000_000))
    image = Image.open(io.BytesIO(few))
    assert decoding.coded_work(image, few) == (  # an uncompressed file's bytes: 0
        100_000 * decoding._TIFF_PIECE_WORK + 10 * decoding._SEGMENT_WORK)  # and its 10 tags
    assert decoding.decode_image(few).size == (1, 100_000)
    with pytest.raises(ImageTooLarge, match=PIXEL_DATA):
        decoding.decode_image(many)


def test_a_tiffs_strip_is_reckoned_at_the_bytes_its_file_stores():
    data = hostile.black_tiff(100, 50, 3, 16)  # one strip of 48-bit RGB: 6 bytes a pixel
    assert decoding._tiff_buffer(Image.open(io.BytesIO(data))) == 100 * 50 * 6


@pytest.mark.parametrize("mode, arguments, planes", [
    ("RGB", None, 1.5),  # Pillow's: 8 bits, 4:2:0 (chroma a quarter each)
    ("RGB", ["-d", "8", "-y", "444"], 3), ("RGB", ["-d", "10", "-y", "422"], 4),
    ("RGBA", ["-d", "12", "-y", "444"], 8),  # the costliest: 2 bytes a sample, alpha too
    ("L", ["-d", "8", "-y", "400"], 1)])  # monochrome: luma only
def test_an_avifs_planes_are_reckoned_from_its_header(mode, arguments, planes):
    if arguments and not shutil.which("avifenc"):
        pytest.skip("avifenc is not installed (apt-get install libavif-bin)")
    data = bench_encode(mode, "AVIF", (96, 64), {"avifenc": arguments} if arguments else {})
    image = Image.open(io.BytesIO(data))
    assert decoding._av1_planes(image, data) == planes
    stored, bands = {"RGB": (3, 0), "RGBA": (4, 2), "L": (1, 0)}[mode]
    per_pixel = (2 * stored + bands + planes) / 2  # the planes are written once: counted half
    assert decoding.pixel_data(image, data) == math.ceil(96 * 64 * per_pixel)
    # without its configuration boxes (a header cut short), the most
    assert decoding._av1_planes(image, data.replace(b"av1C", b"xxxx")) == 8


# --- boxes: where the digits are, in the upload's own pixels ---------------------------------

def test_digits_are_found_left_to_right_with_boxes_in_upload_pixels():
    sheet = np.full((300, 600), 250, dtype=np.uint8)
    sheet[50:250, 400:430] = 20  # a '1' on the right
    sheet[100:200, 100:180] = 20  # a block on the left
    boxes = [digit.box for digit in READER.read_number(encode(sheet)).digits]
    assert len(boxes) == 2
    assert boxes[0] == pytest.approx((100, 100, 80, 100), abs=12)
    assert boxes[1] == pytest.approx((400, 50, 30, 200), abs=12)


def test_digit_boxes_follow_the_exif_orientation():
    sheet = np.full((300, 600), 250, dtype=np.uint8)
    sheet[50:250, 400:430] = 20
    stored = Image.fromarray(sheet).transpose(Image.Transpose.ROTATE_90)  # 300 wide, 600 tall
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned back: as `sheet`
    box = READER.read_digit(encode(stored, "JPEG", quality=95, exif=exif.tobytes())).box
    assert box == pytest.approx((400, 50, 30, 200), abs=12)


@pytest.mark.parametrize("pen", [1, 2, 4, 6])
def test_a_dead_straight_thin_stroke_is_read_like_a_thick_one(pen):
    """A vertical line narrower than the box warp's step between samples used to fall between
    them, leaving no ink and a 500; it reads as the same 8x8 image as a thick pen's line."""
    def line(width):
        image = Image.new("L", (280, 280), 255)
        ImageDraw.Draw(image).line([(140, 30), (140, 250)], fill=0, width=width)
        return pixels_of(encode(image))

    assert (line(pen) == line(18)).all()


def test_an_upload_goes_through_each_core_module_once_in_the_pipeline_s_order():
    """The reader conducts; the work goes decoding -> ink -> segmentation -> optdigits ->
    model, each entered once (a separated number of digits too narrow to be two: no piece
    for segmentation to have judged). Counting what the upload's headers hold (`headers`) is
    a step of decoding's."""
    entered = []

    def note(frame, event, _arg):
        module = frame.f_globals.get("__name__", "").replace(".headers", ".decoding")
        if event == "call" and module.startswith("digits.core.") and module not in (
                "digits.core.reading", "digits.core.errors"):
            if not entered or entered[-1] != module:
                entered.append(module)

    image = Image.new("L", (400, 200), 255)
    draw = ImageDraw.Draw(image)
    for left in (60, 160, 260):  # "111", each 1 a fifth of its height wide
        draw.line([(left, 40), (left + 24, 40), (left + 24, 160)], fill=0, width=12)
    data = encode(image)
    sys.setprofile(note)
    try:
        READER.read_number(data)
    finally:
        sys.setprofile(None)
    assert [module.removeprefix("digits.core.") for module in entered] == [
        "decoding", "ink", "segmentation", "optdigits", "model"]


def test_a_digit_the_search_judged_is_read_with_its_edges_back(monkeypatch):
    """A digit judged whole by the search (the 4 of 3411, under a height wide, might have been
    two, and its halves are judged too) is judged on the line's core, its faded edges left
    out, and read with them back: the answer fits the regrown mask, a larger one than the
    mask judged, and gives what fitting every digit afresh gives."""
    data = (ROOT / "test_images" / "number_3411_canvas.png").read_bytes()
    fitted, judged = [], []
    judge = reading.Reader.judge

    def fit(masks, *args):
        fitted.extend(masks)
        return optdigits.fit_to_boxes(masks, *args)

    def noting(reader, pieces, *args, **kwargs):
        judged.extend(pieces)
        return judge(reader, pieces, *args, **kwargs)

    monkeypatch.setattr(reading, "fit_to_boxes", fit)
    monkeypatch.setattr(reading.Reader, "judge", noting)
    read = READER.read_number(data)
    assert read.number == "3411" and len(judged) >= 1
    assert len(fitted) == len(judged) + len(read.digits)
    answered = fitted[len(judged):]  # the digits, fitted for the answer
    assert answered[1].sum() > judged[0].mask.sum()  # the 4, whole: its edges are back
    fresh = [optdigits.block_counts(optdigits.fit_to_box(mask)).tobytes() for mask in answered]
    assert [digit.pixels.tobytes() for digit in read.digits] == fresh


@pytest.mark.parametrize("seed", range(6))
def test_the_reach_beyond_a_line_leaves_its_own_pixels_as_they_were(monkeypatch, seed):
    """A line's region reaches a line height beyond its ends for digits the small copy lost;
    its own columns are still sampled on the same grid, so the digits' masks are the ones read
    without the reach (one pixel more made a wide digit a search over cuts, 4.6 ms)."""
    from digits.core import ink
    from digits.core.reading import locate_page
    from digits.lab.handwriting import handwriting
    from digits.lab.uploads import render_number

    images, _ = handwriting("dev")
    data = render_number(images[seed * 3: seed * 3 + 3], "photo", "separated", seed)
    page = locate_page(READER.decode(data))
    (reaching,) = ink.line_regions(page)
    monkeypatch.setattr(ink, "LINE_REACH", 0.0)
    (own,) = ink.line_regions(page)
    offset = round((own.box[0] - reaching.box[0]) / (reaching.box[2] - reaching.box[0])
                   * reaching.mask.shape[1])
    width = own.mask.shape[1]
    assert own.box[1::2] == reaching.box[1::2]
    assert np.array_equal(reaching.mask[:, offset:offset + width], own.mask)


@pytest.mark.parametrize("blob, chosen", [
    pytest.param((40, 30, 10, 6), True, id="a comma cut by the region's bottom edge: a mark"),
    pytest.param((36, 30, 6, 6), True, id="a point inside the region: a mark"),
    pytest.param((20, 30, 30, 6), False, id="a tall blob cut by the bottom edge: not a digit"),
    pytest.param((40, 0, 10, 6), False, id="a blob cut by the left edge: not a mark"),
])
def test_marks_beside_the_line_may_hang_below_its_region(blob, chosen):
    """The line's region is its digits' box, so a comma's tail, or a point set a little low,
    reaches past its bottom edge: such a mark is kept from the region's ink (`ink.ink_apart`),
    while a digit cut by an edge, or a mark cut at the sides, is not."""
    strokes = np.zeros((50, 80), dtype=bool)
    strokes[2:48, 10:16] = strokes[2:48, 50:56] = True  # two digits, near the components
    blob_ink = np.zeros_like(strokes)
    top, left, height, width = blob
    blob_ink[top:top + height, left:left + width] = True
    kept = ink.ink_apart(strokes | blob_ink, strokes, np.ones(80, dtype=bool))
    assert kept[blob_ink].all() == chosen and not kept[strokes].any()


@pytest.mark.parametrize("wide, past_reach, chosen", [
    pytest.param(8, -1, True, id="a dash ending within SIGN_REACH before the line: its sign"),
    pytest.param(8, -23, True, id="a dash reaching into the line's first columns: its sign"),
    pytest.param(8, 3, False, id="a dash ending further before it: left out"),
    pytest.param(3, -1, False, id="a speck as wide as tall within the reach: dust"),
    pytest.param(60, -55, False, id="a flat stroke from before the line running under it"),
])
def test_a_dash_just_before_the_line_is_kept_as_its_sign(wide, past_reach, chosen):
    """A minus sign before the first digit lies outside the line's own columns, and the page's
    small copy may lose it as it loses a point: a blob as wide for its height as a dash
    (SIGN_ASPECT) is kept from the region's ink when it ends at most SIGN_REACH of the line's
    height before the line's first column."""
    strokes = np.zeros((30, 90), dtype=bool)
    strokes[2:28, 40:44] = strokes[2:28, 60:64] = True  # two digits, near the components
    own = np.zeros(90, dtype=bool)
    own[36:70] = True  # the line's own columns start 4 before its first digit
    dash = np.zeros_like(strokes)
    end = 36 - int(ink.SIGN_REACH * 30) - past_reach
    rows = slice(29, 30) if wide > 30 else slice(14, 17)  # the long one under the digits
    dash[rows, end - wide:end] = True
    kept = ink.ink_apart(strokes | dash, strokes, own)
    assert kept[dash].all() == chosen and not kept[strokes].any()


def test_a_line_s_core_is_its_ink_without_the_faded_edges():
    """A blurred stroke's region keeps, beside its mask, the core the segmentation parts: the
    mask's pixels over CORE_LEVEL of the strokes' level, so narrower than the mask, and kept
    through a region's rows as its mask is."""
    from digits.core.reading import locate_page

    page = Image.new("L", (200, 120), 255)
    ImageDraw.Draw(page).rectangle((90, 20, 101, 99), fill=0)
    data = encode(page.filter(ImageFilter.GaussianBlur(8)), "PNG")
    (region,) = ink.line_regions(locate_page(READER.decode(data)))
    assert region.core.shape == region.mask.shape
    assert not (region.core & ~region.mask).any()
    assert region.core.sum(axis=1).max() < region.mask.sum(axis=1).max()
    top = region.rows(0, 10)
    assert np.array_equal(top.core, region.core[:10])
