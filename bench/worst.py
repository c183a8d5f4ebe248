"""The slowest uploads a worker may be handed: what one accepted upload costs at worst.

    python bench/worst.py [--repeat 3] [--only NAME ...]

Reads each candidate with the shipped Reader in this process, as `POST /read` does (the answer
or the refusal, whichever comes), with the heap a gunicorn worker has (gunicorn.conf.py), the
median of `--repeat` reads, and prints them slowest first with the target: no accepted upload
over 100 ms. Beside each time it prints the work the read did, counted in one more read that is
not timed: the masks fitted to the box (`fit_to_boxes`, the reader's dearest step) and the pieces
the search over cuts judged. Those counts do not move with the machine's load, so they show
what a change did to the cost when the times cannot. The candidates are the ones that make the
reader work hardest: dense dots (ink everywhere, few pixels), a scribble twenty digits wide
(every cut tried), twenty touching handwritten digits, pages of many lines (of separated
strokes, of touching digits: every line searched; of narrow blobs: each tried in two), dust, a
run-length compressed BMP whose rows end early (Pillow would pad them in Python: refused), the
most expensive file of each format the limits let through (bench/memory.py's: the most pixels,
a blank page; and, written by hand, 16-bit colour or interlaced PNGs and a TIFF of a strip a
pixel), the densest of each coding (grain at the highest quality: the most coded bytes, as
many pixels as the limits and the upload size leave), small images whose headers hold as
many chunks, comments or EXIF entries as decoding accepts (Pillow walks them in Python), and a
progressive JPEG of as many scans (libjpeg walks every block again for each).
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory import KINDS, avifenc, largest, most_expensive  # noqa: E402
from digits.core import headers  # noqa: E402
from digits.core.decoding import MAX_SEGMENTS, Limits, decoding_costs  # noqa: E402
from digits.core.errors import DigitsError  # noqa: E402
from digits.core.model import SHIPPED_MODEL  # noqa: E402
from digits.core import reading  # noqa: E402
from digits.core.reading import Reader, load_reader  # noqa: E402
from digits.lab.handwriting import handwriting  # noqa: E402
from digits.lab.hostile import (black_png, black_tiff, encode, padded,  # noqa: E402
                                rescanned_jpeg, run_length_bmp)
from digits.lab.uploads import number_ink, render_number  # noqa: E402
from digits.service.config import SETTINGS  # noqa: E402
from digits.service.heap import return_large_blocks  # noqa: E402

TARGET_MS = 100.0  # the most one accepted upload may cost a worker
# name: (mode, format, options, grain's depth in levels) of the densest file of each coding.
# The depth is the dearer of the two tried: full contrast (the most coded bytes a pixel) or 40
# levels (fewer, so more pixels fit the limits), which differs by coding.
DENSE = {
    "AVIF RGBA 12-bit 4:4:4": ("RGBA", "AVIF", {"avifenc": ["-d", "12", "-y", "444", "--min", "4",
                                                            "--max", "4"]}, 40),
    "AVIF RGB": ("RGB", "AVIF", {"quality": 100}, 255),
    "WebP lossy RGB": ("RGB", "WEBP", {"quality": 100}, 255),
    "WebP lossless RGB": ("RGB", "WEBP", {"lossless": True}, 40),
    "JPEG RGB progressive": ("RGB", "JPEG", {"quality": 100, "subsampling": 0,
                                             "progressive": True}, 40),
    "JPEG L": ("L", "JPEG", {"quality": 100}, 40),
    "PNG L": ("L", "PNG", {}, 40),
    "GIF P": ("P", "GIF", {}, 40),
    "TIFF RGB JPEG": ("RGB", "TIFF", {"compression": "jpeg", "quality": 100}, 40),
}


def dense_dots(width=1200, height=120, step=8, radius=3):
    """Round dots on a grid, close enough that the page's small copy sees one wide blob: every
    cut of it is tried, yet the PNG is under a kilobyte."""
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    for y in range(10, height - 10, step):
        for x in range(10, width - 10, step):
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=0)
    return encode(page, "PNG", optimize=True)


def scribble(digits=20, height=120):
    """One unbroken stroke as wide as `digits` digits: a zigzag that every cut is tried on."""
    page = Image.new("L", (digits * height * 2 // 3 + 40, height + 40), 255)
    points = [(20 + x, 20 + (height if (x // 17) % 2 else 0))
              for x in range(0, page.width - 40, 17)]
    ImageDraw.Draw(page).line(points, fill=0, width=7)
    return encode(page, "PNG")


def touching(count=20):
    """`count` handwritten digits (dev split) whose strokes touch, on a scan."""
    images, _ = handwriting("dev")
    return render_number(images[:count], "scan", "touching", 0)


def touching_lines(lines=5, count=4):
    """`lines` lines of `count` handwritten digits (dev split) whose strokes touch, on a scan:
    as many digits as a number may have, every line searched for its cuts."""
    images, _ = handwriting("dev")
    rng = np.random.default_rng(0)
    inks = [number_ink(images[row * count:(row + 1) * count], 100, "touching", rng)
            for row in range(lines)]
    page = np.zeros((lines * 160, max(ink.shape[1] for ink in inks) + 40), dtype=np.float32)
    for row, ink in enumerate(inks):
        page[row * 160 + 30:row * 160 + 130, 20:20 + ink.shape[1]] = ink
    return encode(Image.fromarray((255 - 230 * page).astype(np.uint8)), "PNG")


def many_lines(lines=12, digits=8, height=60):
    """A page of `lines` lines of `digits` separated strokes each."""
    page = Image.new("L", (digits * height + 40, lines * height * 2 + 40), 255)
    draw = ImageDraw.Draw(page)
    for row in range(lines):
        for column in range(digits):
            x, y = 20 + column * height, 20 + row * height * 2
            draw.line([(x + 20, y), (x + 10, y + height)], fill=0, width=6)
    return encode(page, "PNG")


def narrow_lines(lines=5, count=4, height=80):
    """`lines` lines of `count` U-shaped strokes 0.9 heights wide: ink narrow enough to be one
    digit that might be two touching, each judged whole and, as the judge is unsure of it,
    tried cut in two."""
    wide = round(0.9 * height)
    page = Image.new("L", (count * (wide + height) + 40, lines * height * 2 + 40), 255)
    draw = ImageDraw.Draw(page)
    for row in range(lines):
        for column in range(count):
            x, y = 20 + column * (wide + height), 20 + row * height * 2
            draw.line([(x, y), (x, y + height), (x + wide, y + height), (x + wide, y)],
                      fill=0, width=6)
    return encode(page, "PNG")


def dust(count=4000, side=1600, seed=0):
    """Specks strewn over a large page."""
    rng = np.random.default_rng(seed)
    page = np.full((side, side), 250, dtype=np.uint8)
    ys, xs = rng.integers(0, side - 3, count), rng.integers(0, side - 3, count)
    for y, x in zip(ys, xs):
        page[y:y + 3, x:x + 3] = 30
    return encode(Image.fromarray(page), "PNG")


# name: black_png's (channels, depth, interlaced) of the PNGs Pillow does not write itself
HAND_MADE = {"RGB 16-bit": (3, 16, False), "RGBA 16-bit": (4, 16, False),
             "L interlaced": (1, 8, True), "RGB interlaced": (3, 8, True)}


# (format, hostile.padded's kind, what it is padded with) of the files whose headers Pillow walks
SEGMENTED = (("PNG", "empty", "chunks"), ("PNG", "inflating", "iCCP chunks"),
             ("PNG", "exif", "EXIF entries"), ("JPEG", "empty", "comments"),
             ("GIF", "empty", "comment blocks"))


def most_segments(fmt, kind):
    """The `hostile.padded` file of `fmt` and `kind` with the most segments decoding accepts."""
    base = headers.segments(padded(fmt, 0, kind), MAX_SEGMENTS)
    each = headers.INFLATED_CHUNK if kind == "inflating" else 1
    return padded(fmt, (MAX_SEGMENTS - base) // each, kind)


def most_scans(limits=Limits()):
    """The `hostile.rescanned_jpeg` with the most copies of its last scan decoding accepts."""
    copies = 0
    while True:
        data = rescanned_jpeg(copies=copies + 1)
        if decoding_costs(Image.open(io.BytesIO(data)), data)[1] > limits.pixel_data:
            return rescanned_jpeg(copies=copies)
        copies += 1


def grainy(name, side, seed=0):
    """The `name` kind of DENSE as a file of `side` x `side` pixels of grain."""
    mode, fmt, options, levels = DENSE[name]
    rng = np.random.default_rng(seed)
    pixels = (255 - rng.integers(0, levels + 1, (side, side, 4))).astype(np.uint8)
    image = Image.fromarray(pixels, "RGBA")
    image = image if mode == "RGBA" else image.convert(mode)
    if "avifenc" in options:
        return avifenc(image, options["avifenc"])
    return encode(image, fmt, **options)


def densest(name, limits=Limits(), upload_bytes=SETTINGS["MAX_UPLOAD_BYTES"][0]):
    """Bytes of the largest square file of grain of the `name` kind of DENSE that the limits
    and the upload size accept (from a small sample: grain is slow to encode)."""
    return largest(lambda side: grainy(name, side), limits, upload_bytes, probe=256)


def candidates(only=None):
    """{name: upload bytes} of every candidate (or of those named in `only`)."""
    made = {"dense dots (PNG)": dense_dots, "a scribble 20 digits wide": scribble,
            "20 touching handwritten digits": touching, "a page of 12 lines": many_lines,
            "a page of 10 lines of 2": lambda: many_lines(10, 2),
            "5 lines of 4 touching handwritten digits": touching_lines,
            "5 lines of 4 narrow blobs, each maybe two digits": narrow_lines,
            "dust over a 1600x1600 page": dust,
            "an RLE8 BMP of 4000x4000, rows ended early": lambda: run_length_bmp(4000, 4000)}
    made.update({f"largest {name}": (lambda name=name: most_expensive(name)[1])
                 for name in KINDS})
    made.update({f"densest {name}": (lambda name=name: densest(name)) for name in DENSE})
    # what Pillow does not write itself: 16-bit samples it reads into an 8-bit mode, Adam7
    made.update({f"largest PNG {name}": (lambda arguments=arguments: largest(
        lambda side: black_png(side, side, *arguments))) for name, arguments in HAND_MADE.items()})
    made.update({f"a {fmt} of the most header {noun} accepted": (
        lambda fmt=fmt, kind=kind: most_segments(fmt, kind)) for fmt, kind, noun in SEGMENTED})
    made["a progressive JPEG of the most scans accepted"] = most_scans
    # as many strips as the limits take, each a pixel: libtiff's work a strip, not a byte
    made["a TIFF a pixel wide, a strip a row"] = lambda: largest(
        lambda side: black_tiff(1, side * side, rows_per_strip=1))
    return {name: build() for name, build in made.items() if not only or name in only}


def cost_ms(reader, data, repeat):
    """The median milliseconds of `repeat` reads of `data`, and what the last one answered."""
    times, answer = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            answer = repr(reader.read_number(data).number)
        except DigitsError as error:
            answer = type(error).__name__
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), answer


def work_of(reader, data):
    """The work one read of `data` does: {"fits": masks fitted to the box, "judged": pieces
    the search over cuts judged}, counted by wrapping the reader's two functions for it."""
    work = {"fits": 0, "judged": 0}
    fit, judge = reading.fit_to_boxes, Reader.judge

    def counted_fit(masks, *args, **kwargs):
        work["fits"] += len(masks)
        return fit(masks, *args, **kwargs)

    def counted_judge(self, pieces, *args, **kwargs):
        work["judged"] += len(pieces)
        return judge(self, pieces, *args, **kwargs)

    with mock.patch.object(reading, "fit_to_boxes", counted_fit), \
            mock.patch.object(Reader, "judge", counted_judge):
        try:
            reader.read_number(data)
        except DigitsError:
            pass
    return work


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args(argv)
    return_large_blocks()  # as in a gunicorn worker: a large image's pages are faulted in anew
    reader, _ = load_reader(SHIPPED_MODEL)
    rows = []
    for name, data in candidates(args.only).items():
        milliseconds, answer = cost_ms(reader, data, args.repeat)
        rows.append((milliseconds, name, len(data), work_of(reader, data), answer))
    rows.sort(key=lambda row: row[0], reverse=True)
    for milliseconds, name, size, work, answer in rows:
        print(f"{milliseconds:8.1f} ms  {name:<36} {size:>9} bytes  fits {work['fits']:>3}  "
              f"judged {work['judged']:>3}  {answer}")
    worst = rows[0]
    verdict = "met" if worst[0] <= TARGET_MS else "missed"
    print(f"slowest: {worst[1]}, {worst[0]:.1f} ms  {verdict} (target <= {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
