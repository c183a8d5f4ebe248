"""The trained model: loaded once and checked against its metadata, then asked for predictions."""

import hashlib
import json
from pathlib import Path

import joblib
import numpy as np
import sklearn

from digits.errors import ModelUnavailable


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


def load_model(model_path):
    """Load the model and its metadata, refusing anything that does not match.

    Raises ModelUnavailable with a one-line, actionable message when the files are missing,
    the model's sha256 differs from the one recorded, or scikit-learn's version differs.
    """
    model_path = Path(model_path)
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
    actual = sha256_of(model_path)
    if actual != metadata.get("sha256"):
        raise ModelUnavailable(f"{model_path} has sha256 {actual[:12]}..., but {meta_path.name} "
                               f"records {str(metadata.get('sha256'))[:12]}...: the file was "
                               "changed or damaged; restore it or run `python train.py`")
    trained_with = metadata.get("versions", {}).get("scikit-learn")
    if trained_with != sklearn.__version__:
        raise ModelUnavailable(f"{model_path} was written by scikit-learn {trained_with}, but "
                               f"{sklearn.__version__} is installed: install the version pinned "
                               "in requirements.txt or run `python train.py`")
    model = joblib.load(model_path)
    if getattr(model, "activation", None) != "relu" or model.out_activation_ != "softmax":
        raise ModelUnavailable(f"{model_path} is not a ReLU/softmax MLPClassifier: run "
                               "`python train.py`")
    return model, metadata


def class_probabilities(model, pixels):
    """P(class) for each 8x8 image (any shape with 64 values per image), one row per image.

    The network's forward pass in numpy: the same numbers as `model.predict_proba`, without
    scikit-learn's input validation on every call (a tenth of a millisecond per request).
    """
    activation = np.asarray(pixels, dtype=np.float64).reshape(-1, 64)
    for weights, bias in zip(model.coefs_[:-1], model.intercepts_[:-1]):
        activation = np.maximum(activation @ weights + bias, 0)
    logits = activation @ model.coefs_[-1] + model.intercepts_[-1]
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def predict(model, pixels, top_k, threshold):
    """The prediction body for an 8x8 image of counts 0..16: best digit, top-k, all ten."""
    probabilities = np.zeros(10)
    probabilities[model.classes_.astype(int)] = class_probabilities(model, pixels)[0]
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
