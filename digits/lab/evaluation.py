"""Accuracy and calibration on handwriting the model never saw, sent as real uploads would be."""

import io

import numpy as np
from joblib import Parallel, delayed
from PIL import Image

from digits.core.errors import DigitsError, SeveralDigits
from digits.core.model import probabilities
from digits.core.reading import read_digit, read_number
from digits.lab.handwriting import SPLITS, handwriting
from digits.lab.uploads import KINDS, NUMBER_KINDS, SPACINGS, render_number, render_upload


def expected_calibration_error(probabilities, labels, bins=10):
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins."""
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0, 1, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


def answered_when_sure(confidence, right, threshold):
    """Of the answers (confidence and whether right, rejected uploads left out): the share marked
    uncertain (confidence under `threshold`) and the accuracy of the rest (None if none)."""
    sure = np.asarray(confidence) >= threshold
    return float(1 - sure.mean()), (float(np.asarray(right)[sure].mean()) if sure.any() else None)


def drawn_as_png(counts, size=256):
    """An 8x8 `load_digits` image drawn as a size x size PNG, dark ink on white, upscaled
    smoothly (Pillow's default bicubic resize)."""
    ink = np.asarray(counts, dtype=np.float32).reshape(8, 8) / 16
    image = Image.fromarray((255 - ink * 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def read_uploads(estimator, uploads):
    """Each upload read as POST /predict reads it (`estimator` choosing where touching ink is
    cut): the 8x8 counts as rows of 64, NaN where the upload was rejected, and how many were
    rejected as several digits."""
    pixels, several = np.full((len(uploads), 64), np.nan), 0
    for index, data in enumerate(uploads):
        try:
            pixels[index] = read_digit(data, lambda rows: probabilities(estimator, rows)).ravel()
        except DigitsError as error:
            several += isinstance(error, SeveralDigits)
    return pixels, several


def kind_uploads(images, kind, offset=0):
    """Bytes of each 28x28 digit rendered as an upload of `kind`, the i-th seeded by offset + i
    (the same uploads whichever model reads them)."""
    return [render_upload(image, kind, offset + i) for i, image in enumerate(images)]


def score_uploads(estimator, uploads, labels):
    """Send each upload through POST /predict's path; accuracy, ECE, how many were rejected
    and how many of those as several digits.

    A rejected upload (no digit found, ...) counts as a wrong answer; its `predicted` is -1 and
    its `confidence` 0.
    """
    pixels, several = read_uploads(estimator, uploads)
    kept = ~np.isnan(pixels[:, 0])
    labels = np.asarray(labels)
    answers = probabilities(estimator, pixels[kept])
    predicted, confidence = np.full(len(labels), -1), np.zeros(len(labels))
    predicted[kept] = answers.argmax(axis=1)
    confidence[kept] = answers.max(axis=1)
    return {
        "n": int(len(labels)),
        "accuracy": float((predicted == labels).mean()),
        "ece": expected_calibration_error(answers, labels[kept]) if kept.any() else None,
        "rejected": int((~kept).sum()),
        "several_digits": several,
        "predicted": predicted.tolist(),
        "confidence": confidence.tolist(),
    }


def evaluate_kind(estimator, kind, images, labels, offset=0):
    """Render every digit as an upload of `kind` and score the model on them."""
    return score_uploads(estimator, kind_uploads(images, kind, offset), labels)


def evaluate(estimator, split="test", per_kind=None, kinds=KINDS, n_jobs=2):
    """Score every upload kind on a split of the handwriting set: {kind: score}."""
    images, labels = handwriting(split, per_kind)
    offset = SPLITS[split].start
    scores = Parallel(n_jobs=n_jobs)(
        delayed(evaluate_kind)(estimator, kind, images, labels, offset) for kind in kinds)
    return dict(zip(kinds, scores))


def read_numbers(estimator, kind, spacing, numbers, offset=0):
    """Render each number (a list of 28x28 digits, with its labels) as an upload of `kind` and
    `spacing` and read it as POST /read does: per number, (length, digits found, digits right
    when the count is right, whole number right)."""
    rows = []
    for index, (images, labels) in enumerate(numbers):
        data = render_number(images, kind, spacing, offset + index)
        try:
            reading = read_number(data, lambda pixels: probabilities(estimator, pixels))
            found = probabilities(estimator, np.stack(reading.pixels)).argmax(axis=1)
        except DigitsError:
            found = np.array([], dtype=int)
        right = int((found == labels).sum()) if len(found) == len(labels) else 0
        rows.append((len(labels), len(found), right, bool(right == len(labels))))
    return rows


def number_set(split="test", count=240, longest=8):
    """`count` numbers of lengths 1..`longest` in turn, their digits taken in order from the
    split's handwriting (the same numbers for every kind and spacing): [(images, labels)]."""
    images, labels = handwriting(split)
    numbers, start = [], 0
    for index in range(count):
        length = 1 + index % longest
        if start + length > len(labels):
            start = 0
        numbers.append((images[start:start + length], labels[start:start + length]))
        start += length
    return numbers


def evaluate_numbers(estimator, split="test", count=240, kinds=NUMBER_KINDS,
                     spacings=tuple(SPACINGS), n_jobs=2):
    """Read `count` numbers of every kind and spacing: {(kind, spacing): figures} with the
    share of numbers whose digits were all found (count_right), the share of digits right
    among those, and exact-number accuracy by length."""
    numbers = number_set(split, count)
    cells = [(kind, spacing) for kind in kinds for spacing in spacings]
    results = Parallel(n_jobs=n_jobs)(
        delayed(read_numbers)(estimator, kind, spacing, numbers, SPLITS[split].start)
        for kind, spacing in cells)
    figures = {}
    for cell, rows in zip(cells, results):
        rows = np.array(rows, dtype=int)
        counted = rows[:, 0] == rows[:, 1]
        figures[cell] = {
            "n": len(rows),
            "count_right": float(counted.mean()),
            "digits_right": float(rows[counted, 2].sum() / max(1, rows[counted, 0].sum())),
            "exact": float(rows[:, 3].mean()),
            "exact_by_length": {int(length): float(rows[rows[:, 0] == length, 3].mean())
                                for length in np.unique(rows[:, 0])},
        }
    return figures
