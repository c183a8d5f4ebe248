"""The committed real handwriting the offline lab measures on, never trained on: 2000 MNIST
training digits (28x28, light ink on dark), split in a dev half (tuning) and a test half
(reporting)."""

from pathlib import Path

import numpy as np

HANDWRITING = Path(__file__).resolve().parent / "data" / "handwriting-2000.npz"
SPLITS = {"dev": slice(0, 1000), "test": slice(1000, 2000)}  # tuned on dev, reported on test


def handwriting(split="test", per_kind=None):
    """The committed handwritten digits (28x28, light ink on dark) and labels of a split."""
    with np.load(HANDWRITING) as data:
        images, labels = data["images"][SPLITS[split]], data["labels"][SPLITS[split]]
    return (images, labels) if per_kind is None else (images[:per_kind], labels[:per_kind])
