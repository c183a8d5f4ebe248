"""The trained model: its weights loaded once and checked against the metadata, then asked
for predictions.

`train.py` writes the scikit-learn estimator (`model.joblib`), the same network's weights as
plain arrays (`model.npz`) and `model.json`. The service predicts from the arrays, so its
workers never import scikit-learn or unpickle anything (about 60 MB less per process).
"""

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata as installed
from pathlib import Path

import numpy as np

from digits.errors import ModelUnavailable


@dataclass(frozen=True)
class Network:
    """A ReLU network with a softmax output: one (weights, bias) pair per layer, and the
    class label of each output."""

    layers: tuple
    classes: np.ndarray


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


def weights_path(model_path):
    """`model.npz` beside the joblib file."""
    return Path(model_path).with_suffix(".npz")


def network_from(estimator):
    """The Network of a fitted ReLU/softmax MLPClassifier.

    Raises ValueError for another kind of network, which `class_probabilities` would misread.
    """
    if estimator.activation != "relu" or estimator.out_activation_ != "softmax":
        raise ValueError("only a ReLU network with a softmax output can be served")
    return Network(tuple(zip(estimator.coefs_, estimator.intercepts_)),
                   np.asarray(estimator.classes_))


def export_weights(estimator, path):
    """Write a fitted ReLU/softmax MLPClassifier's weights and classes to an .npz file."""
    network = network_from(estimator)
    arrays = {"classes": network.classes}
    for index, (weights, bias) in enumerate(network.layers):
        arrays[f"weights_{index}"], arrays[f"bias_{index}"] = weights, bias
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def load_model(model_path):
    """The network and its metadata, refusing anything that does not match.

    Raises ModelUnavailable with a one-line, actionable message when a file is missing, a
    file's sha256 differs from the one recorded, or scikit-learn's version differs.
    """
    model_path = Path(model_path)
    meta_path, npz_path = metadata_path(model_path), weights_path(model_path)
    for path in (model_path, meta_path, npz_path):
        if not path.is_file():
            raise ModelUnavailable(f"model file {path} is missing: run `python train.py` or set "
                                   "DIGITS_MODEL_PATH to a trained model")
    try:
        metadata = json.loads(meta_path.read_text())
    except (OSError, ValueError) as error:
        raise ModelUnavailable(f"{meta_path} is not readable JSON ({error}): run "
                               "`python train.py` to write it again") from None
    _check_sha256(model_path, metadata.get("sha256"), meta_path)
    _check_sha256(npz_path, metadata.get("weights", {}).get("sha256"), meta_path)
    trained_with = metadata.get("versions", {}).get("scikit-learn")
    # The installed version, read without importing scikit-learn.
    if trained_with != installed.version("scikit-learn"):
        raise ModelUnavailable(f"{model_path} was written by scikit-learn {trained_with}, but "
                               f"{installed.version('scikit-learn')} is installed: install the "
                               "version pinned in requirements.txt or run `python train.py`")
    return _read_network(npz_path), metadata


def class_probabilities(network, pixels):
    """P(class) for each 8x8 image (any shape with 64 values per image), one row per image.

    The same numbers as the estimator's `predict_proba`, without scikit-learn.
    """
    activation = np.asarray(pixels, dtype=np.float64).reshape(-1, 64)
    for weights, bias in network.layers[:-1]:
        activation = np.maximum(activation @ weights + bias, 0)
    weights, bias = network.layers[-1]
    logits = activation @ weights + bias
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def predict(network, pixels, top_k, threshold):
    """The prediction body for an 8x8 image of counts 0..16: best digit, top-k, all ten."""
    probabilities = np.zeros(10)
    probabilities[network.classes.astype(int)] = class_probabilities(network, pixels)[0]
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


def _check_sha256(path, recorded, meta_path):
    actual = sha256_of(path)
    if actual != recorded:
        raise ModelUnavailable(f"{path} has sha256 {actual[:12]}..., but {meta_path.name} "
                               f"records {str(recorded)[:12]}...: the file was changed or "
                               "damaged; restore it or run `python train.py`")


def _read_network(path):
    """The Network in an .npz written by export_weights; ModelUnavailable if it is not one."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            classes = arrays["classes"]
            layers = tuple((arrays[f"weights_{i}"], arrays[f"bias_{i}"])
                           for i in range(sum(k.startswith("weights_") for k in arrays.files)))
    except (OSError, ValueError, KeyError) as error:
        raise ModelUnavailable(f"{path} is not a weights file written by train.py ({error}): "
                               "run `python train.py`") from None
    sizes = [64] + [bias.shape[0] for _, bias in layers]
    if (not layers or sizes[-1] != len(classes)
            or any(weights.shape != (n_in, n_out)
                   for (weights, _), n_in, n_out in zip(layers, sizes, sizes[1:]))):
        raise ModelUnavailable(f"{path} does not hold a 64-input network with one output per "
                               "class: run `python train.py`")
    return Network(layers, classes)
