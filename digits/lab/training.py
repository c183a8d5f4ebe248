"""Fit the MLP on `load_digits`, augmented through the recognition core's path, tune its
confidence threshold on the dev handwriting, and write it with its metadata."""

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
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import classification_report
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier

from digits.core.model import load_model, metadata_path, sha256_of
from digits.lab.augment import augmented
from digits.lab.distillation import distil
from digits.lab.ensemble import merge_networks
from digits.lab.evaluation import (MOST_UNCERTAIN, THRESHOLD_STEP, expected_calibration_error,
                                   tuned_threshold)

HYPERPARAMETERS = {
    "hidden_layer_sizes": (256, 128),
    "alpha": 0.05,  # networks taught by their merge: less weight decay makes them differ more
    "max_iter": 60,
    "learning_rate_init": 0.001,
    "batch_size": 200,
}
TEST_SIZE = 0.2
COPIES = 5  # distorted versions of each training digit
RAW_REPEATS = 8  # the original digits weigh this much against their distorted versions
# each distorted copy of a 1, 4 or 7 is first redrawn in the other writing style (a plain 1, a
# 4 with a raised bar, a 7 without a bar) this often; tuned on the dev split (0.3 and 0.5
# tried, 0.3 better)
STYLE_PROBABILITY = 0.3
# networks trained apart, network i seeded seed + i for its augmentation and initialisation;
# merged, they teach the first of them (digits.lab.distillation), which is the model shipped
# (dev split: merges of 2, 3 and 4 tried; one augmentation shared by all reads worse)
NETWORKS = 3
# the merged networks' mean logits are divided by this: at 1 their answer is overconfident on
# real handwriting (dev split: ECE 0.025, 0.031 for the marker kind); 1.2 and 1.3 give the
# least log-loss there
TEMPERATURE = 1.2
# passes of the first network over all the networks' augmented rows, fitting their merge's
# logits (dev split: 10 and 20 read the same; 60 from a fresh start read no better)
DISTIL_EPOCHS = 10
# The threshold is tuned on the first TUNE_PER_KIND dev digits of each upload kind: half of
# them, as rendering the uploads is most of train.py's time (a photo is 1600x1200 pixels). The
# shipped model's threshold is 0.65 on 500 as on all 1000 (uncertain 11.2 % and 10.5 %).
TUNE_PER_KIND = 500
COUNT_SCALE = 16.0  # counts are 0..16; the network trains on 0..1


@dataclass(frozen=True)
class Training:
    """A trained model and what was measured while it was made: `threshold` (tuned on the dev
    handwriting) and `uncertain_share` (the share it marks uncertain there) are None when the
    threshold was not tuned."""

    model: MLPClassifier
    seed: int
    seeds: list
    split_seed: int
    copies: int
    max_iter: int
    distil_epochs: int
    train_samples: int
    augmented_rows: int
    test_samples: int
    heldout_accuracy: float
    heldout_ece: float
    cv_folds: int
    cv_accuracy: float | None
    cv_accuracy_std: float | None
    training_seconds: float
    loss_curves: list  # each network's, before any teaching
    report: str  # scikit-learn's classification report on the held-out digits
    threshold: float | None
    uncertain_share: float | None
    tune_per_kind: int | None = None  # dev digits of each kind the threshold was tuned on


def split(seed):
    """Stratified train / held-out split of `load_digits`: (X_train, X_test, y_train, y_test)."""
    images, labels = load_digits(return_X_y=True)
    return train_test_split(images, labels, test_size=TEST_SIZE, stratify=labels,
                            random_state=seed)


def heldout(metadata):
    """The held-out (images, labels) of the model `metadata` (model.json) describes: the split
    of its recorded split seed (older metadata: of its training seed)."""
    seed = metadata["data"].get("split_seed", metadata["hyperparameters"]["random_state"])
    _, images, _, labels = split(seed)
    return images, labels


def training_set(images, labels, seed, copies=COPIES, n_jobs=2):
    """Augmented features and labels, plus each row's source image (to keep folds honest)."""
    chunks = np.array_split(np.arange(len(images)), max(1, n_jobs * 4))
    parts = Parallel(n_jobs=n_jobs)(
        delayed(augmented)(images[chunk], labels[chunk], copies, seed, int(chunk[0]),
                           STYLE_PROBABILITY)
        for chunk in chunks if len(chunk))
    features = np.vstack([p[0] for p in parts])
    targets = np.concatenate([p[1] for p in parts])
    sources = np.concatenate([p[2] for p in parts])
    raw_rows = np.tile(np.arange(len(images)), RAW_REPEATS)
    return (np.vstack([features, images[raw_rows]]), np.concatenate([targets, labels[raw_rows]]),
            np.concatenate([sources, raw_rows]))


def fit_network(features, labels, seed, max_iter=None):
    """Fit the MLP; it then takes counts 0..16 directly, as the service passes them."""
    params = {**HYPERPARAMETERS, "max_iter": max_iter or HYPERPARAMETERS["max_iter"]}
    model = MLPClassifier(random_state=seed, **params)
    with warnings.catch_warnings():
        # A fixed epoch budget is part of the regularisation, not a failure to converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features / COUNT_SCALE, labels)
    # Fold the input scaling into the first layer so prediction needs no extra step.
    model.coefs_[0] = model.coefs_[0] / COUNT_SCALE
    return model


def _fold_accuracy(test_images, test_labels, features, targets, seed, max_iter):
    model = fit_network(features, targets, seed, max_iter)
    return float((model.predict(test_images) == test_labels).mean())


def train(seed=0, cv_folds=3, copies=COPIES, max_iter=None, split_seed=None, n_jobs=2,
          networks=NETWORKS, distil_epochs=DISTIL_EPOCHS, tune=True, tune_per_kind=TUNE_PER_KIND,
          segmenter=None):
    """Train and measure: a Training.

    The model is one MLP. With `networks` > 1, that many are trained apart (the i-th augmented
    and initialised with seed + i), merged into one that answers their consensus
    (`merge_networks`), and the first is then taught that consensus for `distil_epochs` passes
    over all their augmented rows (`distil`): the merge's accuracy, one network's cost.
    `copies` and `max_iter` trade quality for speed (experiments, tests); the defaults ship.
    `split_seed` (default: `seed`) picks the held-out digits apart from the augmentation and
    the networks' seeds; `n_jobs` processes augment the digits and fit the networks.
    Cross-validation measures one network of the recipe, as it was before it was taught.
    With `tune`, the confidence threshold is tuned on the dev handwriting (`tuned_threshold`,
    read with `segmenter`; the first `tune_per_kind` digits of each kind, None for all).
    """
    started = time.perf_counter()
    split_seed = seed if split_seed is None else split_seed
    X_train, X_test, y_train, y_test = split(split_seed)
    seeds = [seed + index for index in range(networks)]
    sets = [training_set(X_train, y_train, member_seed, copies, n_jobs) for member_seed in seeds]
    features, targets, sources = sets[0]
    fits = [delayed(fit_network)(member_features, member_targets, member_seed, max_iter)
            for member_seed, (member_features, member_targets, _) in zip(seeds, sets)]
    if cv_folds > 1:
        # the folds' fits share the pool with the networks' so that neither waits on the other
        splits = StratifiedKFold(cv_folds, shuffle=True, random_state=seed).split(X_train,
                                                                                    y_train)
        fits += [delayed(_fold_accuracy)(X_train[test], y_train[test],
                                         features[np.isin(sources, train_rows)],
                                         targets[np.isin(sources, train_rows)], seed, max_iter)
                 for train_rows, test in splits]
    done = Parallel(n_jobs=n_jobs)(fits)
    members, fold_scores = done[:networks], done[networks:]
    model = members[0]
    if networks > 1:
        teacher = merge_networks(members, TEMPERATURE)
        model = distil(members[0], teacher, np.vstack([rows for rows, _, _ in sets]),
                       distil_epochs, COUNT_SCALE)
    probabilities = model.predict_proba(X_test)
    predicted = model.classes_[probabilities.argmax(axis=1)]
    threshold, uncertain_share = (tuned_threshold(model, segmenter, per_kind=tune_per_kind,
                                                  n_jobs=n_jobs)
                                  if tune else (None, None))
    return Training(
        model=model, seed=seed, seeds=seeds, split_seed=split_seed, copies=copies,
        max_iter=max_iter or HYPERPARAMETERS["max_iter"],
        distil_epochs=distil_epochs if networks > 1 else 0,
        train_samples=int(len(X_train)), augmented_rows=int(len(features)),
        test_samples=int(len(X_test)),
        heldout_accuracy=float((predicted == y_test).mean()),
        heldout_ece=expected_calibration_error(probabilities, y_test),
        cv_folds=cv_folds,
        cv_accuracy=float(np.mean(fold_scores)) if fold_scores else None,
        cv_accuracy_std=float(np.std(fold_scores)) if fold_scores else None,
        training_seconds=round(time.perf_counter() - started, 1),
        loss_curves=[member.loss_curve_ for member in members],
        report=classification_report(y_test, predicted, digits=3),
        threshold=threshold, uncertain_share=uncertain_share, tune_per_kind=tune_per_kind)


def model_metadata(training, sha256):
    """The metadata written to model.json for a tuned Training whose file has `sha256`."""
    return {
        "sha256": sha256,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "joblib": joblib.__version__},
        "estimator": "sklearn.neural_network.MLPClassifier",
        "hyperparameters": {**HYPERPARAMETERS, "max_iter": training.max_iter,
                            "random_state": training.seed},
        "networks": _networks(training),
        "input": "8x8 counts 0..16 (optdigits), row-major, 64 features",
        "classes": [int(c) for c in training.model.classes_],
        "confidence_threshold": training.threshold,
        "threshold_tuning": {
            "rule": (f"the highest threshold in steps of {THRESHOLD_STEP} that marks at most "
                     f"{MOST_UNCERTAIN:.0%} of the dev handwriting's answers uncertain"),
            "per_kind": training.tune_per_kind,
            "uncertain_share": training.uncertain_share},
        "data": {"dataset": "sklearn.datasets.load_digits", "test_size": TEST_SIZE,
                 "split_seed": training.split_seed,
                 "train_samples": training.train_samples,
                 "test_samples": training.test_samples,
                 "augmented_rows": training.augmented_rows,
                 "augmentation": (f"{training.copies} distorted copies per digit (rotation, "
                                  "shear, stretch, shift, elastic bend, stroke width; "
                                  f"{STYLE_PROBABILITY:.0%} of the copies of 1s, 4s and 7s "
                                  "redrawn as a plain 1, a 4 with a raised bar or a 7 without "
                                  f"a bar) + {RAW_REPEATS}x the originals, per network")},
        "metrics": {"heldout_accuracy": training.heldout_accuracy,
                    "heldout_ece": training.heldout_ece, "cv_folds": training.cv_folds,
                    "cv_accuracy": training.cv_accuracy,
                    "cv_accuracy_std": training.cv_accuracy_std,
                    "training_seconds": training.training_seconds},
    }


def _networks(training):
    """How the shipped network came about: alone, or taught by several merged."""
    seeds = training.seeds
    if len(seeds) == 1:
        return {"count": 1, "seeds": seeds, "answer": "the one network's"}
    return {"count": len(seeds), "seeds": seeds, "temperature": TEMPERATURE,
            "distil_epochs": training.distil_epochs,
            "answer": (f"network {seeds[0]} taught for {training.distil_epochs} epochs to "
                       f"answer as the {len(seeds)} networks merged do: the softmax of their "
                       f"mean logits / {TEMPERATURE}")}


def write_artifacts(training, out_dir):
    """Write model.joblib and model.json of a tuned Training into `out_dir`; returns the
    metadata. Raises ValueError for a Training whose threshold was not tuned."""
    if training.threshold is None:
        raise ValueError("a model is written with its tuned threshold: train(tune=True)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.joblib"
    joblib.dump(training.model, model_path, compress=3)
    metadata = model_metadata(training, sha256_of(model_path))
    metadata_path(model_path).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def load_estimator(model_path):
    """The scikit-learn estimator in model.joblib, after the same checks the service makes."""
    return load_model(model_path)[0]
