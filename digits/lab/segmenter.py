"""The segmentation model: a small scikit-learn network that tells, of a piece of ink the search
over cuts may make, whether it is one digit, a fragment of one or several digits. Trained on
strings synthesised from `load_digits`' training split alone (`strings`), dumped with joblib
beside the digit model with the same kind of metadata, checked at start the same way.

It is fitted behind a StandardScaler, then shipped as the network alone with the scaling
folded into its first layer (`folded`): the same probabilities, but one estimator's
`predict_proba` instead of a Pipeline's two steps, each with its own checks of the input,
which cost a worker more than the network's own arithmetic on a line's few pieces; the
search calls it once or twice per line.
"""

import copy
import json
import platform
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import joblib
import numpy as np
import sklearn
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from digits.core.model import metadata_path, segmenter_path, sha256_of
from digits.core.reading import counts_of, piece_features
from digits.core.segmentation import CROSSING_LINES, PIECE_CLASSES, SEGMENTER_FEATURES
from digits.lab.strings import labelled_pieces

STRING_COPIES = 5  # each training digit appears in this many synthesised strings
HYPERPARAMETERS = {"hidden_layer_sizes": (128,), "alpha": 1e-3, "max_iter": 100,
                   "early_stopping": True}
CLASS_NAMES = ("one digit", "fragment", "several digits")


@dataclass
class SegmenterTraining:
    """A fitted segmentation model and how it was made and how it does: `accuracy` on the
    pieces of strings made of the held-out `load_digits` digits."""

    model: object
    seed: int
    copies: int
    pieces: int
    class_counts: list
    accuracy: float
    heldout_pieces: int
    training_seconds: float


def features_of(pieces):
    """The segmentation model's features of (Segment, line height) pairs, as the Reader
    computes them."""
    counts = counts_of([piece.mask for piece, _ in pieces])
    return np.vstack([piece_features(counts[index : index + 1], [piece], height)
                      for index, (piece, height) in enumerate(pieces)])


def training_features(images, seed, n_jobs=2):
    """The features of the `labelled_pieces` of strings made of `images`, and their labels:
    made in chunks in parallel, each chunk its own seed, and described where it was made."""
    chunks = np.array_split(np.arange(len(images)), max(1, n_jobs * 4))
    parts = Parallel(n_jobs=n_jobs)(delayed(_chunk_features)(images[chunk], [seed, index])
                                    for index, chunk in enumerate(chunks) if len(chunk))
    return np.vstack([part[0] for part in parts]), np.concatenate([part[1] for part in parts])


def _chunk_features(images, seed):
    """One chunk's `labelled_pieces`, as features and labels."""
    pieces, labels = labelled_pieces(images, seed)
    return features_of(pieces), labels


def folded(scaler, network):
    """A copy of the fitted MLPClassifier `network` that takes the features as they are: the
    fitted StandardScaler `scaler` that fed it folded into its first layer. As x scaled is
    (x - mean) / scale, the first layer's x_scaled @ W + b is x @ (W / scale) + (b - (mean /
    scale) @ W): the probabilities are the same, to rounding."""
    model = copy.deepcopy(network)
    weights, bias = network.coefs_[0], network.intercepts_[0]
    model.coefs_[0] = weights / scaler.scale_[:, None]
    model.intercepts_[0] = bias - (scaler.mean_ / scaler.scale_) @ weights
    return model


def train_segmenter(train_images, heldout_images, seed=0, copies=STRING_COPIES, n_jobs=2):
    """Fit the segmentation model on strings of `train_images` (8x8 counts), each digit used
    in `copies` strings, and measure it on strings of `heldout_images`."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    images = np.concatenate([train_images[rng.permutation(len(train_images))]
                             for _ in range(copies)])
    features, labels = training_features(images, seed, n_jobs)
    scaler = StandardScaler().fit(features)
    network = MLPClassifier(random_state=seed, **HYPERPARAMETERS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # early stopping bounds the epochs
        network.fit(scaler.transform(features), labels)
    model = folded(scaler, network)
    heldout, heldout_labels = training_features(heldout_images, seed + 1, n_jobs)
    accuracy = float((model.predict(heldout) == heldout_labels).mean())
    return SegmenterTraining(model, seed, copies, len(features),
                             np.bincount(labels, minlength=len(PIECE_CLASSES)).tolist(),
                             accuracy, len(heldout), round(time.perf_counter() - started, 1))


def write_segmenter(training, model_path):
    """Write segmenter.joblib and segmenter.json beside the digit model at `model_path`;
    returns the metadata."""
    path = segmenter_path(model_path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(training.model, path, compress=3)
    metadata = {
        "sha256": sha256_of(path),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "joblib": joblib.__version__},
        "estimator": ("sklearn.neural_network.MLPClassifier (fitted behind a StandardScaler, "
                      "folded into its first layer)"),
        "hyperparameters": {**HYPERPARAMETERS, "random_state": training.seed},
        "input": ("a piece of ink: its 8x8 counts 0..16 (as the digit model reads it), then its "
                  "width and height over the line's height and the ink pixels its left and "
                  "right cuts went through over the line's height, then the strokes crossed "
                  f"by {len(CROSSING_LINES)} rows and {len(CROSSING_LINES)} columns across it: "
                  f"{SEGMENTER_FEATURES} features"),
        "classes": dict(zip(map(str, PIECE_CLASSES), CLASS_NAMES)),
        "data": {"dataset": "sklearn.datasets.load_digits (the digit model's training split)",
                 "strings": (f"each digit in {training.copies} synthesised strings of 1-5 digits "
                             "that touch, overlap or stand a little apart; every piece of "
                             "the search between its shortest cut paths, labelled by the "
                             "digits' ink it holds"),
                 "pieces": training.pieces, "class_counts": training.class_counts},
        "metrics": {"heldout_accuracy": training.accuracy,
                    "heldout_pieces": training.heldout_pieces,
                    "training_seconds": training.training_seconds},
    }
    metadata_path(path).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata
