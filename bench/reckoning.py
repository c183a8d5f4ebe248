"""Whether the decoding budget reckons each format's memory truly: measured against reckoned.

    python bench/reckoning.py [--only NAME ...]

The limits refuse an upload by what decoding it would cost (`decoding.decoding_cost`, read from
the header), so that cost must not be below what decoding really takes. For every kind of
bench/memory.py this decodes, as the service does (`decoding.decode_image`), the most expensive
file the limits accept and one of about half its pixels, each in a fresh process, and divides
the difference of their peak RSS by the difference of their pixels: the bytes a pixel really
costs, the process's fixed costs cancelled. Beside it, the bytes a pixel the reckoning counts
for the larger file. Prints each kind, met when the reckoning is not below the measure by more
than MARGIN, and how many are.
"""

import argparse
import io
import math
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory import KINDS, encode, most_expensive  # noqa: E402
from digits.core.decoding import decoding_costs  # noqa: E402

MARGIN = 0.5  # bytes a pixel the measure may exceed the reckoning by (the allocator's rounding)
# One decode in a fresh process: its peak RSS over the peak before it, in bytes. The peak is
# the process's VmHWM, in kilobytes: getrusage's ru_maxrss would not do, as a child keeps its
# parent's (this process, which built the files) across fork and exec.
_MEASURE = """
import gc, sys
sys.path.insert(0, sys.argv[1])
from digits.core.decoding import decode_image

def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

data = open(sys.argv[2], "rb").read()
gc.collect()
before = peak()
decode_image(data)
print((peak() - before) * 1024)
"""


def decoding_peak(data):
    """Bytes of peak RSS that decoding `data` adds, in a process of its own."""
    with tempfile.NamedTemporaryFile(suffix=".upload") as upload:
        upload.write(data)
        upload.flush()
        done = subprocess.run([sys.executable, "-c", _MEASURE, str(ROOT), upload.name],
                              capture_output=True, text=True, check=True)
    return int(done.stdout)


def per_pixel(name):
    """(size, reckoned, measured) for the kind `name`: its most expensive accepted file's
    size, the bytes a pixel `decoding_cost` reckons for it and the bytes a pixel decoding
    really adds between a file of about half its pixels and it."""
    (width, height), data = most_expensive(name)
    mode, fmt, options = KINDS[name]
    half = (round(width / math.sqrt(2)), round(height / math.sqrt(2)))
    small = encode(mode, fmt, half, options)
    reckoned, _ = decoding_costs(Image.open(io.BytesIO(data)), data)
    measured = ((decoding_peak(data) - decoding_peak(small))
                / (width * height - half[0] * half[1]))
    return (width, height), reckoned / (width * height), measured


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, metavar="NAME",
                        help=f"only these kinds, e.g. 'WebP lossy RGB' (of: {', '.join(KINDS)})")
    args = parser.parse_args(argv)
    print(f"{'upload':<24} {'size':>11} {'reckoned':>9} {'measured':>9}  (bytes a pixel)")
    below = []
    for name in args.only or KINDS:
        (width, height), reckoned, measured = per_pixel(name)
        met = measured <= reckoned + MARGIN
        below += [] if met else [name]
        print(f"{name:<24} {f'{width}x{height}':>11} {reckoned:>9.1f} {measured:>9.1f}  "
              f"{'met' if met else 'MISSED'}")
    verdict = "met" if not below else "missed: " + ", ".join(below)
    print(f"reckoning below what decoding takes (by over {MARGIN} bytes a pixel): "
          f"{len(below)} kinds  {verdict}")


if __name__ == "__main__":
    main()
