"""Deterministic renderer of realistic uploads from handwritten 28x28 digits (light ink on dark).

Each upload kind is one way people really send a digit: a phone photo, a scan, a canvas export,
ruled paper, a marker or a thin pen, an unusual file mode. The same digit and seed always give
the same bytes, so the evaluation set is reproducible from a small committed array.
"""

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from digits.lab.handwriting import handwriting

KINDS = ("screen", "scan", "photo", "canvas", "ruled", "marker", "thin_pen", "modes")
_MODES = ("palette", "16bit", "cmyk", "la", "p_transparency", "gif_animated")


def render_upload(digit, kind, seed, **options):
    """Bytes of an image file showing the 28x28 `digit` as an upload of `kind`.

    `options` reach the kind's renderer (the photo takes `size=(width, height)`).
    """
    rng = np.random.default_rng(seed)
    return _RENDERERS[kind](digit, rng, **options)


def _ink(digit, size, rng, rotate=0.0, width=0):
    """The digit's ink coverage (0..1) at `size` pixels, optionally rotated and re-stroked."""
    ink = Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC)
    if rotate:
        ink = ink.rotate(rotate, resample=Image.Resampling.BICUBIC)
    ink = np.asarray(ink, dtype=np.float32) / 255
    if width > 0:
        ink = ndimage.grey_dilation(ink, size=(width, width))
    elif width < 0:
        ink = np.clip((ink - 0.55) / 0.2, 0, 1)
    return np.clip(ink, 0, 1)


def _paper(height, width, rng, tint=(245, 243, 236), gradient=0.0, noise=3.0):
    """Off-white paper with an optional lighting gradient and grain, as float RGB."""
    ys, xs = np.mgrid[0:1:32j, 0:1:32j]
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 - gradient * (0.5 + 0.5 * (np.cos(angle) * xs + np.sin(angle) * ys))
    light = light - gradient * 0.5 * ((xs - 0.5) ** 2 + (ys - 0.5) ** 2)
    # lighting varies slowly: work it out on a coarse grid and stretch it over the page
    light = np.asarray(Image.fromarray(light.astype(np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR))
    grain = rng.standard_normal((height, width), dtype=np.float32)
    grain *= noise
    # the same float32 steps as light * tint + grain, a channel at a time into planes seen as
    # (height, width, 3): numpy's inner loop then runs over a row, not over three values (a
    # photo's 1600x1200 page 4x quicker, the same uploads to the bit)
    planes = np.empty((3, height, width), dtype=np.float32)
    for plane, channel in zip(planes, np.asarray(tint, dtype=np.float32)):
        np.multiply(light, channel, out=plane)
        plane += grain
    return planes.transpose(1, 2, 0)


def _lay(paper, ink, top, left, colour):
    """Lay ink of `colour` onto the paper at (top, left)."""
    height, width = ink.shape
    region = paper[top : top + height, left : left + width]
    alpha = ink[..., None]
    region[...] = region * (1 - alpha) + np.asarray(colour, dtype=np.float32) * alpha
    return paper


def _encode(array_or_image, fmt, **params):
    image = array_or_image
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _screen(digit, rng):
    """White ink on black, 28x28 PNG: a screenshot of an MNIST-style digit."""
    return _encode(digit, "PNG")


def _scan(digit, rng):
    """Dark ink on white paper, 300 dpi-like grey TIFF, a little off-centre."""
    size = int(rng.integers(180, 240))
    paper = _paper(320, 320, rng, tint=(250, 250, 250), noise=4)
    top, left = rng.integers(10, 320 - size - 10, size=2)
    page = _lay(paper, _ink(digit, size, rng), top, left, (25, 25, 30)).mean(axis=2)
    return _encode(page, "TIFF", compression="tiff_lzw")


def _photo(digit, rng, size=(1600, 1200), fmt="JPEG"):
    """A phone photo: a JPEG (1600x1200 by default; or `fmt`, e.g. AVIF), uneven light, grain,
    coloured ink, the digit small and off-centre, slightly rotated, stored sideways with an EXIF
    orientation tag."""
    width, height = size
    side = int(rng.integers(height * 0.22, height * 0.38))
    paper = _paper(height, width, rng, tint=(236, 232, 220), gradient=0.35, noise=6)
    top = int(rng.integers(40, height - side - 40))
    left = int(rng.integers(60, width - side - 60))
    colour = [(20, 30, 120), (25, 25, 25), (30, 60, 150)][int(rng.integers(3))]
    ink = _ink(digit, side, rng, rotate=rng.uniform(-10, 10))
    page = _lay(paper, ink, top, left, colour)
    stored = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    stored = stored.filter(ImageFilter.GaussianBlur(1.2))  # a phone lens is never quite sharp
    orientation = int(rng.choice([1, 3, 6, 8]))
    if orientation != 1:  # stored as the sensor saw it; the tag says how to turn it upright
        stored = stored.transpose({3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90,
                                   8: Image.Transpose.ROTATE_270}[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(stored, fmt, quality=int(rng.integers(75, 92)), exif=exif.tobytes())


def _canvas(digit, rng):
    """A browser canvas export: 280x280 PNG, transparent, the drawing only in alpha."""
    ink = _ink(digit, 280, rng)
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = (ink * 255).astype(np.uint8)
    return _encode(Image.fromarray(rgba, "RGBA"), "PNG")


def _ruled(digit, rng):
    """Dark ink on ruled or squared paper with dust specks: 600x600 JPEG."""
    side = 600
    paper = _paper(side, side, rng, gradient=0.15, noise=4)
    spacing = int(rng.integers(40, 70))
    line = np.asarray((150, 170, 215), dtype=np.float32)
    offset = int(rng.integers(0, spacing))
    for y in range(offset, side, spacing):
        paper[y : y + 2] = line
    if rng.random() < 0.5:
        for x in range(offset, side, spacing):
            paper[:, x : x + 2] = line
    for _ in range(int(rng.integers(3, 12))):
        y, x = rng.integers(0, side - 4, size=2)
        paper[y : y + int(rng.integers(1, 4)), x : x + int(rng.integers(1, 4))] = 60
    size = int(rng.integers(220, 320))
    top, left = rng.integers(20, side - size - 20, size=2)
    page = _lay(paper, _ink(digit, size, rng, rotate=rng.uniform(-5, 5)), top, left, (30, 30, 40))
    return _encode(page, "JPEG", quality=88)


def _marker(digit, rng):
    """A thick marker on white paper: 400x400 WebP."""
    paper = _paper(400, 400, rng, noise=2)
    ink = _ink(digit, 300, rng, width=int(rng.integers(9, 17)))
    page = _lay(paper, ink, 50, 50, (10, 10, 10))
    return _encode(page, "WEBP", quality=85)


def _thin_pen(digit, rng):
    """A thin ball-point stroke on white paper: 500x500 PNG."""
    paper = _paper(500, 500, rng, noise=3)
    size = int(rng.integers(300, 420))
    top, left = rng.integers(10, 500 - size - 10, size=2)
    page = _lay(paper, _ink(digit, size, rng, width=-1), top, left, (20, 20, 80))
    # zlib level 2, not Pillow's 6: the same pixels, the grain compressed 3x quicker
    return _encode(page, "PNG", compress_level=2)


def _modes(digit, rng):
    """Dark ink on light paper in one of the unusual modes: palette, 16-bit, CMYK, LA,
    palette with transparency, animated GIF."""
    mode = _MODES[int(rng.integers(len(_MODES)))]
    page = _lay(_paper(200, 200, rng, noise=2), _ink(digit, 160, rng), 20, 20, (30, 30, 30))
    grey = Image.fromarray(np.clip(page.mean(axis=2), 0, 255).astype(np.uint8))
    rgb = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    if mode == "palette":
        return _encode(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16), "PNG")
    if mode == "16bit":
        return _encode(Image.fromarray((np.asarray(grey, dtype=np.uint16) * 257)), "PNG")
    if mode == "cmyk":
        return _encode(rgb.convert("CMYK"), "JPEG", quality=90)
    if mode == "la":
        return _encode(grey.convert("LA"), "PNG")
    if mode == "p_transparency":
        ink = (_ink(digit, 200, rng) * 255).astype(np.uint8)
        indexed = Image.fromarray(np.where(ink > 127, 1, 0).astype(np.uint8), "P")
        indexed.putpalette([255, 255, 255, 0, 0, 0])
        return _encode(indexed, "PNG", transparency=0)
    noise = Image.fromarray(rng.integers(0, 255, (200, 200), dtype=np.uint8))
    return _encode(grey, "GIF", save_all=True, append_images=[noise], duration=100, loop=0)


# --- numbers: several digits on one line ----------------------------------------------------

# "squared": paper whose grid crosses the digits (the number taller than its squares)
NUMBER_KINDS = ("scan", "photo", "canvas", "ruled", "squared")
# gap between neighbours as a share of the line's height; touching digits overlap instead
SPACINGS = {"separated": (0.15, 0.45), "tight": (0.03, 0.12), "touching": None}
# Touching digits are set where their strokes' ink over 0.3 first meets, then 0-2 pixels of
# the 100-pixel line closer: they mostly touch. How deep real writing runs one digit into the
# next varies; `overlap` sets it, up to a whole stroke (about 10 pixels of that line).
TOUCHING_CLOSER = (0, 2)


def render_number(digits, kind, spacing, seed, separators=None, overlap=None):
    """Bytes of an image file showing the 28x28 `digits` side by side as one handwritten
    number, uploaded as `kind` (one of NUMBER_KINDS) with `spacing` (one of SPACINGS);
    `separators` ({digits before it: "." "," "-" or " "}) are written between them; touching
    digits are set `overlap` pixels of the 100-pixel line past the point where their strokes
    meet (None: TOUCHING_CLOSER at random)."""
    rng = np.random.default_rng(seed)
    return _NUMBER_RENDERERS[kind](number_ink(digits, 100, spacing, rng, separators, overlap),
                                   rng)


def render_number_by_digit(digits, kind, spacing, seed, overlap=None):
    """`render_number` of a number without marks, and beside it each of its digits alone in
    the same upload: the same paper, light and placement, the other digits left out (the
    renderers draw the same random numbers for ink of the same shape). Where two digits
    touch, which one drew a pixel is then the one whose own upload is darkest there, against
    the same upload with no ink: (the number's bytes, [each digit's bytes], the paper's)."""
    rng = np.random.default_rng(seed)
    alone = []
    line = number_ink(digits, 100, spacing, rng, overlap=overlap, alone=alone)
    drawn = rng.bit_generator.state
    whole = _NUMBER_RENDERERS[kind](line, rng)
    each = []
    for ink in [*alone, np.zeros_like(line)]:
        rng.bit_generator.state = drawn
        each.append(_NUMBER_RENDERERS[kind](ink, rng))
    return whole, each[:-1], each[-1]


def number_ink(digits, height, spacing, rng, separators=None, overlap=None, alone=None):
    """Ink coverage (0..1) of the digits on one line `height` pixels tall: each digit's size
    and baseline jittered, the gaps drawn from SPACINGS (or strokes made to touch, `overlap`
    pixels past meeting: `_next_offset`), and a point on the baseline, a comma, a dash at
    mid-height or a wide space where `separators` ({digits before it: symbol}; a dash at 0 is
    a minus sign) says (below the line, room for a comma's tail). Given a list `alone`, each
    digit's own ink on a line of the same shape is added to it."""
    separators = separators or {}
    parts = []
    for digit in digits:
        ink = _ink(_cropped_digit(digit), 28, rng)
        rows, cols = np.nonzero(ink > 0.05)
        ink = ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
        size = height * rng.uniform(0.8, 0.95)
        scale = size / ink.shape[0]
        ink = np.asarray(Image.fromarray(ink).resize(
            (max(1, round(ink.shape[1] * scale)), round(size)), Image.Resampling.BILINEAR))
        parts.append((ink, int(rng.integers(0, height - ink.shape[0] + 1))))
    below = round(0.3 * height) if "," in separators.values() else 0  # a comma's tail
    line = np.zeros((height + below, sum(part.shape[1] for part, _ in parts)
                     + height * len(parts) + 2 * height * len(separators)), dtype=np.float32)
    x = 0
    for index, (ink, top) in enumerate(parts):
        if index in separators:  # at 0, a sign before the first digit, at its mid-height
            x = _separator(line, x, parts[index - 1] if index else parts[0], separators[index],
                           height, rng)
        elif index:
            x += _next_offset(line, ink, top, x, height, spacing, rng, overlap)
        window = line[top: top + ink.shape[0], x: x + ink.shape[1]]
        np.maximum(window, ink, out=window)
        if alone is not None:
            alone.append(np.zeros_like(line))
            alone[-1][top: top + ink.shape[0], x: x + ink.shape[1]] = ink
        x += ink.shape[1]
    cols = np.flatnonzero(line.max(axis=0) > 0.05)
    if alone is not None:
        alone[:] = [ink[:, : cols[-1] + 1] for ink in alone]
    return line[:, : cols[-1] + 1]


def _separator(line, x, previous, symbol, height, rng):
    """Write `symbol` after `x` (the end of the line so far, whose last digit is `previous`:
    (ink, top); for a sign before the first digit, that digit): a round point whose bottom sits
    on that digit's baseline, a comma (that point with a tail hanging below the baseline), a
    dash at its mid-height, or a wide space. Returns where the next digit starts."""
    ink, top = previous
    if symbol == " ":
        return x + round(height * rng.uniform(0.9, 1.4))
    x += round(height * rng.uniform(0.08, 0.16))
    if symbol in ".,":
        side = round(height * rng.uniform(0.1, 0.15))
        tail = round(side * rng.uniform(1.0, 1.5)) if symbol == "," else 0
        rows, cols = np.mgrid[:side + tail, :side]
        mark = ((rows - (side - 1) / 2) ** 2 + (cols - (side - 1) / 2) ** 2
                <= (side / 2) ** 2).astype(np.float32)
        # the tail: a stroke a third of the point thick, from its right side down to the left
        along = rows - (side - 1) / 2
        mark[(along > 0) & (np.abs(cols - (side - 1) * (0.8 - 0.5 * along / max(1, tail)))
                            <= max(1.0, side / 6))] = 1.0
        mark_top = top + ink.shape[0] - side - int(rng.integers(0, max(1, side // 3)))
    else:
        width = round(height * rng.uniform(0.3, 0.45))
        thick = round(height * rng.uniform(0.07, 0.1))
        mark = np.ones((thick, width), dtype=np.float32)
        mark_top = top + ink.shape[0] // 2 - thick // 2 + int(rng.integers(-3, 4))
    mark_top = min(max(0, mark_top), line.shape[0] - mark.shape[0])
    window = line[mark_top: mark_top + mark.shape[0], x: x + mark.shape[1]]
    np.maximum(window, mark, out=window)
    return x + mark.shape[1] + round(height * rng.uniform(0.08, 0.16))


def _cropped_digit(digit):
    """A 28x28 digit cut to its ink and padded back to a square, so that every digit is drawn
    at the same height whatever its margins."""
    rows, cols = np.nonzero(digit > 30)
    crop = digit[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    side = max(crop.shape)
    square = np.zeros((side, side), dtype=digit.dtype)
    left = (side - crop.shape[1]) // 2
    square[:, left: left + crop.shape[1]][: crop.shape[0]] = crop
    return square


def _next_offset(line, ink, top, x, height, spacing, rng, overlap=None):
    """How far after `x` (the end of the line so far) the next digit starts: a gap, or, for
    touching digits, far enough back that its strokes meet the previous digit's, then
    `overlap` pixels closer (None: TOUCHING_CLOSER at random)."""
    if SPACINGS[spacing] is not None:
        return round(height * rng.uniform(*SPACINGS[spacing]))
    # the largest start at which some row's ink of the two meets (then `overlap` closer)
    contact = None
    for row in range(ink.shape[0]):
        previous = np.flatnonzero(line[top + row, :x] > 0.3)
        own = np.flatnonzero(ink[row] > 0.3)
        if previous.size and own.size:
            start = previous[-1] - x - own[0]
            contact = start if contact is None else max(contact, start)
    if contact is None:  # no row in common: close the gap between their boxes instead
        return -round(height * 0.05)
    # drawn whatever `overlap` is, so that a number differs from its usual self in depth alone
    closer = int(rng.integers(TOUCHING_CLOSER[0], TOUCHING_CLOSER[1] + 1))
    return max(-x, contact - (closer if overlap is None else overlap))


# pages of several lines: a scan, a phone photo of the page, ruled paper with a line per rule
PAGE_KINDS = ("scan", "photo", "ruled")


def render_page(numbers, kind, seed):
    """Bytes of an image file showing `numbers` (each a list of 28x28 digits) one under the
    other as lines of handwriting (separated digits, each line's start and spacing jittered),
    uploaded as `kind` (one of PAGE_KINDS)."""
    rng = np.random.default_rng(seed)
    height = 100
    inks = [number_ink(digits, height, "separated", rng) for digits in numbers]
    pitch = round(height * rng.uniform(1.4, 1.9))  # from one line's top to the next's
    indents = [int(rng.integers(0, height // 2)) for _ in inks]
    page = np.zeros((pitch * (len(inks) - 1) + height,
                     max(indent + ink.shape[1] for indent, ink in zip(indents, inks))),
                    dtype=np.float32)
    for row, (indent, ink) in enumerate(zip(indents, inks)):
        page[row * pitch:row * pitch + height, indent:indent + ink.shape[1]] = ink
    if kind == "photo":
        return _number_photo(page, rng, share=(0.5, 0.8))
    if kind == "ruled":
        return _page_ruled(page, pitch, height, rng)
    return _number_scan(page, rng)


def _page_ruled(ink, pitch, height, rng):
    """Ruled paper, a rule under every line of writing, with dust specks: a JPEG."""
    margin = height
    paper = _paper(ink.shape[0] + 2 * margin, ink.shape[1] + 80, rng, gradient=0.15, noise=4)
    for y in range(margin + height + 2, paper.shape[0], pitch):
        paper[y: y + 2] = (150, 170, 215)
    for _ in range(int(rng.integers(3, 10))):
        y, x = rng.integers(0, paper.shape[0] - 4), rng.integers(0, paper.shape[1] - 4)
        paper[y: y + int(rng.integers(1, 4)), x: x + int(rng.integers(1, 4))] = 60
    return _encode(_lay(paper, ink, margin, 40, (30, 30, 40)), "JPEG", quality=88)


def _number_scan(ink, rng):
    """Dark ink on white, a grey TIFF with a margin around the line."""
    height, width = ink.shape
    margin = int(rng.integers(20, 60))
    paper = _paper(height + 2 * margin, width + 2 * margin, rng, tint=(250, 250, 250), noise=4)
    page = _lay(paper, ink, margin, margin, (25, 25, 30)).mean(axis=2)
    return _encode(page, "TIFF", compression="tiff_lzw")


def _number_photo(ink, rng, size=(800, 600), share=(0.1, 0.18)):
    """A phone photo: the writing small in a large frame (800x600 JPEG; its height a `share`
    of the frame's), uneven light."""
    width, height = size
    scale = min(rng.uniform(*share) * height / ink.shape[0], 0.85 * width / ink.shape[1])
    ink = np.asarray(Image.fromarray(ink).resize(
        (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale))),
        Image.Resampling.BILINEAR))
    paper = _paper(height, width, rng, tint=(236, 232, 220), gradient=0.3, noise=6)
    top = int(rng.integers(20, height - ink.shape[0] - 20))
    left = int(rng.integers(10, width - ink.shape[1] - 10 + 1))
    colour = [(20, 30, 120), (25, 25, 25)][int(rng.integers(2))]
    page = Image.fromarray(np.clip(_lay(paper, ink, top, left, colour), 0, 255).astype(np.uint8))
    return _encode(page.filter(ImageFilter.GaussianBlur(0.8)), "JPEG", quality=85)


def _number_canvas(ink, rng):
    """A wide browser canvas export: transparent PNG 280 pixels tall, the drawing in alpha."""
    scale = 200 / ink.shape[0]
    ink = np.asarray(Image.fromarray(ink).resize(
        (max(1, round(ink.shape[1] * scale)), 200), Image.Resampling.BILINEAR))
    rgba = np.zeros((280, ink.shape[1] + 80, 4), dtype=np.uint8)
    rgba[40:240, 40:40 + ink.shape[1], 3] = (np.clip(ink, 0, 1) * 255).astype(np.uint8)
    return _encode(Image.fromarray(rgba, "RGBA"), "PNG")


def _number_ruled(ink, rng):
    """Dark ink on ruled paper with dust specks, the line sitting on a rule: a JPEG."""
    height, width = ink.shape
    page_height, page_width = 3 * height, width + 80
    paper = _paper(page_height, page_width, rng, gradient=0.15, noise=4)
    top = height
    for y in (top - height // 2, top + height + 2, top + 2 * height):
        if y < page_height:
            paper[y: y + 2] = (150, 170, 215)
    for _ in range(int(rng.integers(3, 10))):
        y, x = rng.integers(0, page_height - 4), rng.integers(0, page_width - 4)
        paper[y: y + int(rng.integers(1, 4)), x: x + int(rng.integers(1, 4))] = 60
    page = _lay(paper, ink, top, 40, (30, 30, 40))
    return _encode(page, "JPEG", quality=88)


def _number_squared(ink, rng):
    """Squared paper whose grid crosses the digits: the number written taller than the squares
    (their side 40-60 % of its height), phone-scanned as a JPEG."""
    height, width = ink.shape
    page_height, page_width = 2 * height, width + 80
    paper = _paper(page_height, page_width, rng, gradient=0.1, noise=4)
    side = max(8, round(height * rng.uniform(0.4, 0.6)))
    offset_y, offset_x = int(rng.integers(0, side)), int(rng.integers(0, side))
    darkness = rng.uniform(0.55, 0.85)  # from a pale blue grid to a dark grey one
    grid = tuple(round(channel * darkness) for channel in (200, 210, 240))
    for y in range(offset_y, page_height, side):
        paper[y: y + 2] = grid
    for x in range(offset_x, page_width, side):
        paper[:, x: x + 2] = grid
    page = _lay(paper, ink, height // 2, 40, (30, 30, 40))
    return _encode(page, "JPEG", quality=88)


_NUMBER_RENDERERS = {"scan": _number_scan, "photo": _number_photo, "canvas": _number_canvas,
                     "ruled": _number_ruled, "squared": _number_squared}


_RENDERERS = {"screen": _screen, "scan": _scan, "photo": _photo, "canvas": _canvas,
              "ruled": _ruled, "marker": _marker, "thin_pen": _thin_pen, "modes": _modes}


# The committed test_images/: file name (expected digit first) -> (dev-split index, kind,
# options). Chosen from the dev split, never the reported one, among digits the shipped model
# reads with confidence >= 0.65, its threshold (tests/test_images.py holds them to it); the 4
# is the first such screen 4 after the one an earlier model read surely.
TEST_IMAGES = {
    "7_photo.jpg": (109, "photo", {"size": (4000, 3000)}),
    "3_canvas.png": (153, "canvas", {}),
    "2_scan.tiff": (131, "scan", {}),
    "5_ruled.jpg": (108, "ruled", {}),
    "4_screen.png": (135, "screen", {}),
    "8_marker.webp": (101, "marker", {}),
    "6_photo.avif": (65, "photo", {"fmt": "AVIF"}),  # sideways: an irot box, read as EXIF
}


# The committed numbers: file name (the number in it) -> (dev-split indices of its digits,
# kind, spacing, seed). Chosen from the dev split among numbers the shipped model reads right,
# each digit with confidence >= 0.7.
NUMBER_TEST_IMAGES = {
    "number_2026_photo.jpg": ([888, 224, 83, 293], "photo", "separated", 2),
    "number_547_scan.tiff": ([900, 255, 109], "scan", "tight", 2),
    "number_3411_canvas.png": ([902, 255, 123, 307], "canvas", "separated", 2),
    "number_90210_ruled.jpg": ([829, 224, 83, 307, 348], "ruled", "tight", 2),
}


def write_test_images(folder):
    """Render TEST_IMAGES and NUMBER_TEST_IMAGES into `folder` (python -m digits.lab.uploads
    test_images)."""
    images, _ = handwriting("dev")
    for name, (index, kind, options) in TEST_IMAGES.items():
        (Path(folder) / name).write_bytes(render_upload(images[index], kind, index, **options))
    for name, (indices, kind, spacing, seed) in NUMBER_TEST_IMAGES.items():
        (Path(folder) / name).write_bytes(render_number(images[indices], kind, spacing, seed))


if __name__ == "__main__":
    write_test_images(sys.argv[1] if len(sys.argv) > 1 else "test_images")
