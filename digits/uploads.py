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
    grain = rng.standard_normal((height, width), dtype=np.float32) * noise
    tint = np.asarray(tint, dtype=np.float32)
    return light[..., None] * tint[None, None, :] + grain[..., None]


def _lay(paper, ink, top, left, colour):
    """Lay ink of `colour` onto the paper at (top, left)."""
    size = ink.shape[0]
    region = paper[top : top + size, left : left + size]
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
    return _encode(page, "PNG")


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


_RENDERERS = {"screen": _screen, "scan": _scan, "photo": _photo, "canvas": _canvas,
              "ruled": _ruled, "marker": _marker, "thin_pen": _thin_pen, "modes": _modes}


# The committed test_images/: file name (expected digit first) -> (dev-split index, kind,
# options). Chosen from the dev split, never the reported one, among digits the shipped model
# reads with confidence >= 0.6.
TEST_IMAGES = {
    "7_photo.jpg": (109, "photo", {"size": (4000, 3000)}),
    "3_canvas.png": (153, "canvas", {}),
    "2_scan.tiff": (131, "scan", {}),
    "5_ruled.jpg": (108, "ruled", {}),
    "4_screen.png": (112, "screen", {}),
    "8_marker.webp": (101, "marker", {}),
    "6_photo.avif": (65, "photo", {"fmt": "AVIF"}),  # sideways: an irot box, read as EXIF
}


def write_test_images(folder):
    """Render TEST_IMAGES into `folder` (python -m digits.uploads test_images)."""
    from digits.evaluation import handwriting

    images, _ = handwriting("dev")
    for name, (index, kind, options) in TEST_IMAGES.items():
        (Path(folder) / name).write_bytes(render_upload(images[index], kind, index, **options))


if __name__ == "__main__":
    write_test_images(sys.argv[1] if len(sys.argv) > 1 else "test_images")
