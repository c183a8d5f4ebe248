"""Model answers as response bodies: what a client reads for a digit and for a number."""

import numpy as np


def prediction_body(probabilities, pixels, top_k, threshold):
    """The body for one digit: best digit, its confidence and whether that is under the
    `threshold`, the `top_k` most likely digits, all ten probabilities and the 8x8 image."""
    ranked = np.argsort(probabilities)[::-1]
    best = int(ranked[0])
    confidence = float(probabilities[best])
    return {
        "digit": best,
        "confidence": confidence,
        "uncertain": confidence < threshold,
        "top": [{"digit": int(d), "confidence": float(probabilities[d])} for d in ranked[:top_k]],
        "probabilities": [float(p) for p in probabilities],
        "pixels": np.asarray(pixels).astype(int).tolist(),
    }


def number_body(rows, reading, top_k, threshold):
    """The body for a number: its digits left to right as a string, the probability that all
    of them are right (the product of theirs) and whether that is under the `threshold`; each
    digit's body (as `prediction_body`) with its box in the upload; the dots and dashes that
    were set aside."""
    digits = [{**prediction_body(row, pixels, top_k, threshold), "box": _box(box)}
              for row, pixels, box in zip(rows, reading.pixels, reading.boxes)]
    confidence = float(np.prod([digit["confidence"] for digit in digits]))
    return {
        "number": "".join(str(digit["digit"]) for digit in digits),
        "confidence": confidence,
        "uncertain": confidence < threshold,
        "digits": digits,
        "ignored": [{"kind": kind, "box": _box(box)} for kind, box in reading.marks],
    }


def _box(box):
    """(left, top, width, height) as the JSON object clients read."""
    return dict(zip(("left", "top", "width", "height"), (int(value) for value in box)))
