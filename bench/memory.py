"""What the box pays in memory: the most expensive file the limits accept, several at once.

    python bench/memory.py [--concurrent 4] [--only NAME ...] [--endpoint /predict|/read]

For every accepted format and mode it builds the upload that the default limits
(DIGITS_MAX_PIXELS, DIGITS_MAX_DECODED_BYTES, DIGITS_MAX_PIXEL_DATA) let through at the highest
decoding cost, sends `--concurrent` copies at once to the Procfile's gunicorn (2 workers), and
samples the whole tree's PSS (what the box pays; RSS beside it, which counts shared pages once
per process) until they are answered. Prints each file's peak and status, the idle tree, and
the targets: peak tree PSS <= 300 MB, idle <= 150 MB, no 5xx.
"""

import argparse
import io
import math
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import start, tree_memory_mb, wait_ready  # noqa: E402
from digits.core.decoding import Limits, decoding_costs  # noqa: E402

TARGETS_MB = {"peak_pss": 300.0, "idle_pss": 150.0}
# name: (mode, format, save options): every mode and format the service accepts
KINDS = {
    "PNG RGBA": ("RGBA", "PNG", {}),
    "PNG RGB": ("RGB", "PNG", {}),
    "PNG L": ("L", "PNG", {}),
    "PNG LA": ("LA", "PNG", {}),
    "PNG P": ("P", "PNG", {}),
    "PNG P transparency": ("P", "PNG", {"transparency": 0}),
    "PNG 16-bit grey": ("I;16", "PNG", {}),
    "PNG 1-bit": ("1", "PNG", {}),
    "TIFF 32-bit float": ("F", "TIFF", {"compression": "tiff_adobe_deflate"}),
    "TIFF 32-bit int": ("I", "TIFF", {"compression": "tiff_adobe_deflate"}),
    "TIFF RGB deflate": ("RGB", "TIFF", {"compression": "tiff_adobe_deflate"}),
    "TIFF L LZW": ("L", "TIFF", {"compression": "tiff_lzw"}),
    "TIFF L one strip": ("L", "TIFF", {"compression": "tiff_adobe_deflate", "strip": True}),
    "TIFF CMYK LZW": ("CMYK", "TIFF", {"compression": "tiff_lzw"}),
    "JPEG RGB": ("RGB", "JPEG", {"quality": 90}),
    "JPEG CMYK": ("CMYK", "JPEG", {"quality": 90}),
    "JPEG L progressive": ("L", "JPEG", {"progressive": True}),
    "WebP lossless RGBA": ("RGBA", "WEBP", {"lossless": True}),
    "WebP lossy RGB": ("RGB", "WEBP", {"quality": 80}),
    "GIF P": ("P", "GIF", {}),
    "BMP RGB": ("RGB", "BMP", {}),
    "AVIF RGB": ("RGB", "AVIF", {"quality": 90}),
    # the costliest AVIF to decode; Pillow writes only 8 bits, libavif's avifenc (Debian's
    # libavif-bin) the rest
    "AVIF RGBA 12-bit 4:4:4": ("RGBA", "AVIF", {"avifenc": ["-d", "12", "-y", "444"]}),
}


def page(mode, size):
    """A white page of `mode` with one dark stroke (a '1'): it compresses to little."""
    deep = mode in ("I;16", "I", "F")
    image = Image.new(mode if deep else "L", size, 60000 if deep else 255)
    width, height = size
    image.paste(0, (width // 2, height // 4, width // 2 + max(2, width // 40), height * 3 // 4))
    return image if deep else image.convert(mode)


def encode(mode, fmt, size, options):
    """The file's bytes."""
    options = dict(options)
    image = page(mode, size)
    if "avifenc" in options:
        return avifenc(image, options["avifenc"])
    if options.pop("strip", False):
        options["tiffinfo"] = {278: size[1]}  # RowsPerStrip: the whole image in one strip
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def avifenc(image, arguments):
    """The image as an AVIF written by libavif's `avifenc` with these arguments; an RGBA image
    gets a transparent corner first, so that the file keeps its alpha plane."""
    if image.mode == "RGBA":
        alpha = Image.new("L", image.size, 255)
        alpha.paste(0, (0, 0, 8, 8))
        image = image.copy()
        image.putalpha(alpha)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "page.png"), Path(folder, "page.avif")
        image.save(source)
        subprocess.run(["avifenc", "-s", "10", *arguments, str(source), str(target)], check=True,
                       capture_output=True)
        return target.read_bytes()


def most_expensive(name, limits=Limits()):
    """(size, bytes) of the `name` upload with the highest decoding cost the limits accept:
    square, as large as the pixel limit, the decoding budget and the pixel data limit all
    allow."""
    mode, fmt, options = KINDS[name]
    # a JPEG is drafted: what a pixel costs depends on the size, so ask the largest one; any
    # other at 1 MP, where what a file costs whatever its size (its headers) is about 1 %
    probe = math.isqrt(limits.pixels) if fmt == "JPEG" else 1024
    data = largest(lambda side: encode(mode, fmt, (side, side), options), limits, probe=probe)
    return Image.open(io.BytesIO(data)).size, data


def largest(build, limits=Limits(), upload_bytes=None, probe=1024):
    """The bytes of the largest `build(side)` (a square file, or one of side x side pixels)
    that the limits, and the upload size when `upload_bytes` is given, accept: sized from the
    costs of a `probe`-sided sample, then shrunk until taken (a strip or palette costs a
    little more than the sample said)."""
    sample = build(probe)
    bounds = [limits.decoded_bytes, limits.pixel_data] + ([upload_bytes] if upload_bytes else [])
    costs = [*decoding_costs(Image.open(io.BytesIO(sample)), sample), len(sample)]
    side = min([math.isqrt(limits.pixels)] + [math.isqrt(int(bound * probe * probe / cost))
                                              for bound, cost in zip(bounds, costs)])
    while side > 16:
        data = build(side)
        memory, work = decoding_costs(Image.open(io.BytesIO(data)), data)
        if memory <= limits.decoded_bytes and work <= limits.pixel_data and \
                len(data) <= (upload_bytes or len(data)):
            return data
        side = int(side * 0.98)
    raise RuntimeError("no such file fits the limits")


def peak_while(pid, work):
    """Run `work()` while sampling the process tree's memory; (result, peak RSS, peak PSS)."""
    peaks, done = [0.0, 0.0], threading.Event()

    def sample():
        while not done.is_set():
            try:
                rss, pss = tree_memory_mb(pid)
            except (FileNotFoundError, ProcessLookupError):  # a worker was being replaced
                continue
            peaks[0], peaks[1] = max(peaks[0], rss), max(peaks[1], pss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return result, peaks[0], peaks[1]


def send_at_once(url, filename, data, count, endpoint="/predict"):
    """POST `count` copies of the upload to `endpoint` at the same moment; their statuses."""
    def one(_):
        return requests.post(f"{url}{endpoint}", files={"image": (filename, data)},
                             timeout=120).status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return sorted(pool.map(one, range(count)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=4,
                        help="copies of each file sent at once (default 4: both workers busy, "
                             "two waiting)")
    parser.add_argument("--only", nargs="*", default=None, metavar="NAME",
                        help=f"only these kinds, e.g. 'PNG RGBA' (of: {', '.join(KINDS)})")
    parser.add_argument("--endpoint", default="/predict", choices=["/predict", "/read"],
                        help="where the uploads go (default /predict)")
    args = parser.parse_args(argv)
    uploads = [(name, *most_expensive(name)) for name in (args.only or KINDS)]
    process, url = start("service:create_app()")
    try:
        wait_ready(url, "/health", process=process)
        time.sleep(0.5)
        idle_rss, idle_pss = tree_memory_mb(process.pid)
        print(f"gunicorn.conf.py, 2 workers; {args.concurrent} uploads of each file at once "
              f"to POST {args.endpoint}; "
              f"limits: DIGITS_MAX_PIXELS={Limits().pixels:,}, "
              f"DIGITS_MAX_DECODED_BYTES={Limits().decoded_bytes:,}, "
              f"DIGITS_MAX_PIXEL_DATA={Limits().pixel_data:,}")
        print(f"idle tree: PSS {idle_pss:.1f} MB, RSS {idle_rss:.1f} MB\n")
        print(f"{'upload':<24} {'size':>11} {'file':>9} {'statuses':<20} {'peak PSS':>9} "
              f"{'peak RSS':>9}")
        worst, server_errors = 0.0, 0
        for name, (width, height), data in uploads:
            statuses, rss, pss = peak_while(
                process.pid, lambda: send_at_once(url, f"upload.{KINDS[name][1].lower()}", data,
                                                  args.concurrent, args.endpoint))
            worst = max(worst, pss)
            server_errors += sum(status >= 500 for status in statuses)
            print(f"{name:<24} {f'{width}x{height}':>11} {len(data) / 1024:>7.0f}kB "
                  f"{','.join(map(str, statuses)):<20} {pss:>7.1f}MB {rss:>7.1f}MB")
    finally:
        process.terminate()
        process.wait(timeout=30)
    print("\ntargets:")
    for text, met in [(f"peak tree PSS {worst:.1f} MB (target <= {TARGETS_MB['peak_pss']:.0f} MB)",
                       worst <= TARGETS_MB["peak_pss"]),
                      (f"idle tree PSS {idle_pss:.1f} MB (target <= "
                       f"{TARGETS_MB['idle_pss']:.0f} MB)", idle_pss <= TARGETS_MB["idle_pss"]),
                      (f"{server_errors} answers 5xx (target 0)", server_errors == 0)]:
        print(f"  {'met   ' if met else 'MISSED'} {text}")


if __name__ == "__main__":
    main()
