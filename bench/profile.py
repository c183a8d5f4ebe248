"""Where a request's time goes: each step of the recognition core timed alone, in this process.

    python bench/profile.py [--repeat 300]

For the benchmark's two payloads (bench/run.py, POST /predict) and a 6-digit handwritten
number in an 800x600 phone photo (POST /read), prints the milliseconds each step of the core
(`digits.core.reading`) takes on its own and the estimator's `predict_proba`, then the whole read
end to end, the number's against its target (NUMBER_TARGET_MS). The rest of a request
(gunicorn, Flask, multipart parsing) is what the Flask floor measures.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import payloads  # noqa: E402
from digits.core import preprocess, reading  # noqa: E402
from digits.core.decoding import decode_image  # noqa: E402
from digits.core.model import load_model, probabilities  # noqa: E402
from digits.core.segmentation import segment  # noqa: E402
from digits.lab.handwriting import handwriting  # noqa: E402
from digits.lab.uploads import render_number  # noqa: E402
from digits.service.config import defaults  # noqa: E402

NUMBER_TARGET_MS = 15.0  # target: a 6-digit number in an 800x600 photo, read in one process


def number_payload():
    """A 6-digit handwritten number (the dev split's first six digits, separated), small in an
    800x600 phone photo (JPEG): what POST /read is timed on."""
    images, labels = handwriting("dev")
    name = "".join(map(str, labels[:6]))
    return f"number {name}, 800x600 photo (POST /read)", render_number(
        images[:6], "photo", "separated", 0)


def steps(data, estimator):
    """The core's path for one upload as (name, function of the previous result) pairs: the
    same for a digit (POST /predict) and a number (POST /read)."""
    score = reading.digit_confidence(lambda pixels: probabilities(estimator, pixels))
    return [
        ("decode (bounded, reduced, upright)", lambda _: decode_image(data)),
        ("grayscale (transparency flattened)", preprocess.grayscale),
        ("locate: paper, ink mask, ruling, components", preprocess.locate),
        ("the line's region read again", lambda page: preprocess.read_region(
            page, reading.line_components(page)).mask),
        ("segment (merge, marks, cut touching digits)", lambda line: [
            digit.mask for digit in segment(line, score)[0]]),
        ("fit to the box (deskew, scale, stroke weight)", lambda masks: [
            preprocess.fit_to_box(mask) for mask in masks]),
        ("block counts", lambda bitmaps: np.stack([
            preprocess.block_counts(bitmap) for bitmap in bitmaps])),
        ("predict_proba", lambda pixels: probabilities(estimator, pixels)),
    ]


def end_to_end(data, estimator, repeat):
    """Milliseconds to read the upload as POST /read does, whole (median of `repeat` runs),
    and the 8x8 counts of the digits it found."""
    def classify(pixels):
        return probabilities(estimator, pixels)

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        found = reading.read_number(data, classify)
        classify(np.stack(found.pixels))
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times)), np.stack(found.pixels)


def profile(data, estimator, repeat):
    """Milliseconds per step (each run `repeat` times on the previous step's result)."""
    timings, value = [], None
    for name, step in steps(data, estimator):
        result = step(value)
        started = time.perf_counter()
        for _ in range(repeat):
            step(value)
        timings.append((name, (time.perf_counter() - started) / repeat * 1000))
        value = result
    return timings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="runs of each step")
    args = parser.parse_args(argv)
    estimator, _ = load_model(defaults()["MODEL_PATH"])
    uploads = [(name, data) for name, _, data in payloads()] + [number_payload()]
    for name, data in uploads:
        timings = profile(data, estimator, args.repeat)
        print(f"{name}: {sum(ms for _, ms in timings):.2f} ms in all")
        for step, ms in timings:
            print(f"  {step:<46} {ms:6.2f} ms")
        whole, pixels = end_to_end(data, estimator, args.repeat)
        verdict = ""
        if name.startswith("number"):
            verdict = (f"  {'met' if whole <= NUMBER_TARGET_MS else 'MISSED'} "
                       f"(target <= {NUMBER_TARGET_MS:g} ms)")
        print(f"  {'end to end, median (' + str(len(pixels)) + ' digits found)':<46} "
              f"{whole:6.2f} ms{verdict}")


if __name__ == "__main__":
    main()
