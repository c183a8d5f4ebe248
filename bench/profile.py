"""Where a request's time goes: each step of the recognition core timed alone, in this process.

    python bench/profile.py [--repeat 300]

For the benchmark's two payloads (bench/run.py, POST /predict: read for one digit) and a
6-digit handwritten number in an 800x600 phone photo (POST /read), prints the milliseconds
each stage of the reader (`Reader.stages` in `digits.core.reading`, the estimator's
`predict_proba` the last) takes within whole reads, then the whole read end to end, the
number's against its target (NUMBER_TARGET_MS). The rest of a request (gunicorn, Flask,
multipart parsing) is what the Flask floor measures.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import payloads  # noqa: E402
from digits.core.model import SHIPPED_MODEL  # noqa: E402
from digits.core.reading import load_reader  # noqa: E402
from digits.lab.handwriting import handwriting  # noqa: E402
from digits.lab.uploads import render_number  # noqa: E402

NUMBER_TARGET_MS = 15.0  # target: a 6-digit number in an 800x600 photo, read in one process


def number_payload():
    """A 6-digit handwritten number (the dev split's first six digits, separated), small in an
    800x600 phone photo (JPEG): what POST /read is timed on."""
    images, labels = handwriting("dev")
    name = "".join(map(str, labels[:6]))
    return f"number {name}, 800x600 photo (POST /read)", render_number(
        images[:6], "photo", "separated", 0)


def end_to_end(data, reader, repeat, one_digit=False):
    """Milliseconds to read the upload whole, as POST /read does (POST /predict with
    `one_digit`), the median of `repeat` runs, and the 8x8 counts of the digits it found."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        found = reader.read_digit(data) if one_digit else reader.read_number(data)
        times.append((time.perf_counter() - started) * 1000)
    digits = [found] if one_digit else found.digits
    return float(np.median(times)), np.stack([digit.pixels for digit in digits])


def profile(data, reader, repeat, one_digit=False):
    """Milliseconds per stage of the reader, read for one digit with `one_digit`
    (`Reader.stages`): the median over `repeat` whole reads, each stage given what the stage
    before it returned in the same read (so that a fit the search kept for the answer is not
    found kept from an earlier read)."""
    stages = reader.stages(one_digit)
    times = np.zeros((repeat, len(stages)))
    for run in range(repeat):
        value = data
        for index, (_name, stage) in enumerate(stages):
            started = time.perf_counter()
            value = stage(value)
            times[run, index] = (time.perf_counter() - started) * 1000
    return [(name, float(ms)) for (name, _), ms in zip(stages, np.median(times, axis=0))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="reads of each upload")
    args = parser.parse_args(argv)
    reader, _ = load_reader(SHIPPED_MODEL)
    # the payloads as POST /predict reads them (one digit), the number as POST /read does
    uploads = [(name, data, True) for name, _, data in payloads()] + [(*number_payload(), False)]
    for name, data, one_digit in uploads:
        timings = profile(data, reader, args.repeat, one_digit)
        print(f"{name}: {sum(ms for _, ms in timings):.2f} ms in all")
        for step, ms in timings:
            print(f"  {step:<46} {ms:6.2f} ms")
        whole, pixels = end_to_end(data, reader, args.repeat, one_digit)
        verdict = ""
        if name.startswith("number"):
            verdict = (f"  {'met' if whole <= NUMBER_TARGET_MS else 'MISSED'} "
                       f"(target <= {NUMBER_TARGET_MS:g} ms)")
        print(f"  {'end to end, median (' + str(len(pixels)) + ' digits found)':<46} "
              f"{whole:6.2f} ms{verdict}")


if __name__ == "__main__":
    main()
