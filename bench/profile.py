"""Where a request's time goes: each preprocessing step timed alone, in this process.

    python bench/profile.py [--repeat 300]

For the benchmark's two payloads (bench/run.py), prints the milliseconds each step of
`digits.preprocess` takes on its own and the network's forward pass; the rest of a request
(gunicorn, Flask, multipart parsing) is what the Flask floor measures.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import payloads  # noqa: E402
from digits import preprocess  # noqa: E402
from digits.config import defaults  # noqa: E402
from digits.model import class_probabilities, load_model  # noqa: E402


def steps(data, network, max_pixels):
    """The service's path for one upload as (name, function of the previous result) pairs."""
    return [
        ("decode", lambda _: preprocess.decode_image(data, max_pixels)),
        ("grayscale", preprocess.grayscale),
        ("paper plane and polarity", preprocess.ink_strength),
        ("ink mask (threshold, ruling, dust)", preprocess.ink_mask),
        ("fit to the box (crop, deskew, stroke weight)", preprocess.fit_to_box),
        ("block counts", preprocess.block_counts),
        ("network", lambda pixels: class_probabilities(network, pixels)),
    ]


def profile(data, network, max_pixels, repeat):
    """Milliseconds per step (each run `repeat` times on the previous step's result)."""
    timings, value = [], None
    for name, step in steps(data, network, max_pixels):
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
    config = defaults()
    network, _ = load_model(config["MODEL_PATH"])
    for name, _, data in payloads():
        timings = profile(data, network, config["MAX_PIXELS"], args.repeat)
        print(f"{name}: {sum(ms for _, ms in timings):.2f} ms in all")
        for step, ms in timings:
            print(f"  {step:<46} {ms:6.2f} ms")


if __name__ == "__main__":
    main()
