"""Accuracy and calibration on handwriting the model never saw, sent as real uploads would be."""

import io
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from PIL import Image

from digits.errors import DigitsError
from digits.model import probabilities
from digits.preprocess import upload_to_pixels
from digits.uploads import KINDS, render_upload

HANDWRITING = Path(__file__).resolve().parent / "data" / "handwriting-2000.npz"
SPLITS = {"dev": slice(0, 1000), "test": slice(1000, 2000)}  # tuned on dev, reported on test


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


def handwriting(split="test", per_kind=None):
    """The committed handwritten digits (28x28, light ink on dark) and labels of a split."""
    with np.load(HANDWRITING) as data:
        images, labels = data["images"][SPLITS[split]], data["labels"][SPLITS[split]]
    return (images, labels) if per_kind is None else (images[:per_kind], labels[:per_kind])


def drawn_as_png(counts, size=256):
    """An 8x8 `load_digits` image drawn as a size x size PNG, dark ink on white, upscaled
    smoothly (Pillow's default bicubic resize)."""
    ink = np.asarray(counts, dtype=np.float32).reshape(8, 8) / 16
    image = Image.fromarray((255 - ink * 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def score_uploads(estimator, uploads, labels):
    """Send each upload through the service's path; accuracy, ECE and how many were rejected.

    A rejected upload (no digit found, ...) counts as a wrong answer; its `predicted` is -1.
    """
    pixels, kept = [], []
    for data in uploads:
        try:
            pixels.append(upload_to_pixels(data))
        except DigitsError:
            kept.append(False)
            continue
        kept.append(True)
    kept = np.asarray(kept)
    labels = np.asarray(labels)
    answers = probabilities(estimator, np.asarray(pixels).reshape(-1, 64))
    predicted = np.full(len(labels), -1)
    predicted[kept] = answers.argmax(axis=1)
    return {
        "n": int(len(labels)),
        "accuracy": float((predicted == labels).mean()),
        "ece": expected_calibration_error(answers, labels[kept]) if kept.any() else None,
        "rejected": int((~kept).sum()),
        "predicted": predicted.tolist(),
    }


def evaluate_kind(estimator, kind, images, labels, offset=0):
    """Render every digit as an upload of `kind` and score the model on them."""
    uploads = [render_upload(image, kind, offset + i) for i, image in enumerate(images)]
    return score_uploads(estimator, uploads, labels)


def evaluate(estimator, split="test", per_kind=None, kinds=KINDS, n_jobs=2):
    """Score every upload kind on a split of the handwriting set: {kind: score}."""
    images, labels = handwriting(split, per_kind)
    offset = SPLITS[split].start
    scores = Parallel(n_jobs=n_jobs)(
        delayed(evaluate_kind)(estimator, kind, images, labels, offset) for kind in kinds)
    return dict(zip(kinds, scores))
