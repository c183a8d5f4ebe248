"""The trained models: the scikit-learn digit classifier `train.py` dumped with joblib, and the
segmentation model beside it, each loaded once after its file and versions are checked against
its metadata; then the digit classifier is asked for probabilities.

Under gunicorn the app is loaded in the preloading master, so every worker shares the
estimator's pages (what the box pays is counted by PSS, not RSS per worker).
"""

import hashlib
import json
from importlib import metadata as installed
from pathlib import Path

import numpy as np

from digits.core.errors import ModelUnavailable
from digits.core.segmentation import PIECE_CLASSES, SEGMENTER_FEATURES

SHIPPED_MODEL = Path(__file__).resolve().parents[2] / "artifacts" / "model.joblib"  # committed


def sha256_of(path):
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def metadata_path(model_path):
    """`model.json` beside the joblib file."""
    return Path(model_path).with_suffix(".json")


def segmenter_path(model_path):
    """`segmenter.joblib` beside the digit model: the segmentation model trained with it."""
    return Path(model_path).with_name("segmenter.joblib")


def load_model(model_path):
    """The estimator and its metadata (with the confidence threshold tuned for it), refusing
    anything that does not match.

    The file's sha256 and the installed scikit-learn are checked before anything is unpickled.
    Raises ModelUnavailable with a one-line, actionable message when a file is missing or
    unreadable, the sha256 differs from the one recorded, or scikit-learn's version differs.
    """
    estimator, metadata = _checked_load(Path(model_path))
    if not hasattr(estimator, "predict_proba") or getattr(estimator, "n_features_in_", 64) != 64:
        raise ModelUnavailable(f"{model_path} is not a classifier of 8x8 images: run "
                               "`python train.py`")
    threshold = metadata.get("confidence_threshold")
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ModelUnavailable(f"{metadata_path(model_path).name} records no "
                               f"confidence_threshold between 0 and 1 (it has {threshold!r}): "
                               "run `python train.py`")
    return estimator, metadata


def load_segmenter(model_path):
    """The segmentation model beside the digit model at `model_path` (`segmenter_path`),
    checked as `load_model` checks the digit model, and its metadata. Raises ModelUnavailable
    as load_model does, and when the file is not a classifier of pieces (one digit, a
    fragment, several) with SEGMENTER_FEATURES inputs."""
    path = segmenter_path(model_path)
    segmenter, metadata = _checked_load(path)
    if (not hasattr(segmenter, "predict_proba")
            or getattr(segmenter, "n_features_in_", None) != SEGMENTER_FEATURES
            or [int(c) for c in getattr(segmenter, "classes_", [])] != list(PIECE_CLASSES)):
        raise ModelUnavailable(f"{path} is not a segmentation model of {SEGMENTER_FEATURES} "
                               "piece features: run `python train.py`")
    return segmenter, metadata


def _checked_load(model_path):
    """A joblib file and its metadata (the `.json` beside it), once the file's sha256 matches
    the one recorded and the installed scikit-learn is the one that wrote it. Raises
    ModelUnavailable."""
    meta_path = metadata_path(model_path)
    for path in (model_path, meta_path):
        if not path.is_file():
            raise ModelUnavailable(f"model file {path} is missing: run `python train.py` or set "
                                   "DIGITS_MODEL_PATH to a trained model")
    try:
        metadata = json.loads(meta_path.read_text())
    except (OSError, ValueError) as error:
        raise ModelUnavailable(f"{meta_path} is not readable JSON ({error}): run "
                               "`python train.py` to write it again") from None
    actual, recorded = sha256_of(model_path), metadata.get("sha256")
    if actual != recorded:
        raise ModelUnavailable(f"{model_path} has sha256 {actual[:12]}..., but {meta_path.name} "
                               f"records {str(recorded)[:12]}...: the file was changed or "
                               "damaged; restore it or run `python train.py`")
    trained_with = metadata.get("versions", {}).get("scikit-learn")
    if trained_with != installed.version("scikit-learn"):
        raise ModelUnavailable(f"{model_path} was written by scikit-learn {trained_with}, but "
                               f"{installed.version('scikit-learn')} is installed: install the "
                               "version pinned in requirements.txt or run `python train.py`")
    import joblib  # only here: scripts that never load a model need not import it
    try:
        estimator = joblib.load(model_path)
    except Exception as error:  # a pickle can fail in many ways; the message names the file
        raise ModelUnavailable(f"{model_path} could not be loaded ({type(error).__name__}): "
                               "run `python train.py`") from None
    return estimator, metadata


def probabilities(estimator, pixels):
    """P(digit) for each 8x8 image of `pixels` (any shape with 64 values per image): one row
    of ten per image, columns in digit order, from one `predict_proba` call."""
    rows = np.asarray(pixels, dtype=np.float64).reshape(-1, 64)
    answer = np.zeros((len(rows), 10))
    answer[:, estimator.classes_.astype(int)] = estimator.predict_proba(rows)
    return answer
