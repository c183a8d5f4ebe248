"""train.py: a quick fit in a temporary directory gives a loadable artifact and its metadata; the
model is the first of several networks, taught by all of them merged, and stays one network's
size."""

import json

import numpy as np
import pytest

import train
from digits.core.model import load_model, load_segmenter, probabilities, sha256_of
from digits.lab.training import load_estimator


@pytest.fixture(scope="module")
def quick_artifacts(tmp_path_factory):
    """A small, fast training run through the real command (fewer networks, copies and
    epochs)."""
    out = tmp_path_factory.mktemp("artifacts")
    train.main(["--output-dir", str(out), "--seed", "3", "--networks", "2", "--cv-folds", "2",
                "--copies", "1", "--max-iter", "8", "--tune-per-kind", "10",
                "--string-copies", "1"])
    return out


def test_training_writes_the_two_models_and_their_metadata(quick_artifacts):
    assert sorted(path.name for path in quick_artifacts.iterdir()) == [
        "model.joblib", "model.json", "segmenter.joblib", "segmenter.json"]
    metadata = json.loads((quick_artifacts / "model.json").read_text())
    assert metadata["sha256"] == sha256_of(quick_artifacts / "model.joblib")
    assert set(metadata["versions"]) >= {"python", "scikit-learn", "numpy"}
    assert metadata["hyperparameters"]["random_state"] == 3
    assert metadata["data"]["split_seed"] == 3
    networks = metadata["networks"]
    assert networks["count"] == 2 and networks["seeds"] == [3, 4]
    assert networks["distil_epochs"] == 10 and networks["answer"].startswith("network 3 taught")
    assert metadata["hyperparameters"]["max_iter"] == 8
    assert metadata["classes"] == list(range(10))
    assert metadata["estimator"] == "sklearn.neural_network.MLPClassifier"
    assert metadata["trained_at"].endswith("+00:00")
    metrics = metadata["metrics"]
    assert 0.8 < metrics["heldout_accuracy"] <= 1.0
    assert 0.8 < metrics["cv_accuracy"] <= 1.0 and metrics["cv_folds"] == 2
    assert 0.0 <= metrics["heldout_ece"] < 0.2
    assert metrics["training_seconds"] > 0
    # the threshold belongs to the model: tuned on the dev handwriting, written beside it
    assert 0 < metadata["confidence_threshold"] < 1
    assert metadata["threshold_tuning"]["uncertain_share"] <= 0.12


def test_training_prints_accuracy_report_and_time(tmp_path, capsys):
    train.main(["--output-dir", str(tmp_path), "--networks", "1", "--cv-folds", "0",
                "--copies", "0", "--max-iter", "3", "--tune-per-kind", "5",
                "--string-copies", "1"])
    printed = capsys.readouterr().out
    for words in ("precision", "held-out accuracy:", "held-out ECE:", "confidence threshold:",
                  "training time:", "segmentation model:", "segmenter.joblib"):
        assert words in printed
    # one network is shipped as it was trained, untaught
    metadata = json.loads((tmp_path / "model.json").read_text())
    assert metadata["networks"] == {"count": 1, "seeds": [0], "answer": "the one network's"}


def test_the_written_artifacts_pass_the_integrity_check(quick_artifacts):
    estimator, metadata = load_model(quick_artifacts / "model.joblib")
    assert list(estimator.classes_) == list(range(10))
    # taught by two networks, it is still one network of (256, 128): one network's cost
    assert [weights.shape for weights in estimator.coefs_] == [(64, 256), (256, 128), (128, 10)]
    assert metadata["sha256"] == sha256_of(quick_artifacts / "model.joblib")


def test_the_segmentation_model_is_trained_from_load_digits_and_checked_like_the_model(
        quick_artifacts):
    segmenter, metadata = load_segmenter(quick_artifacts / "model.joblib")
    assert metadata["sha256"] == sha256_of(quick_artifacts / "segmenter.joblib")
    assert metadata["data"]["dataset"].startswith("sklearn.datasets.load_digits")
    assert metadata["classes"] == {"0": "one digit", "1": "fragment", "2": "several digits"}
    assert segmenter.n_features_in_ == 78 and list(segmenter.classes_) == [0, 1, 2]
    # it tells pieces of held-out strings apart far better than always saying "fragment"
    shares = np.array(metadata["data"]["class_counts"]) / metadata["data"]["pieces"]
    assert metadata["metrics"]["heldout_accuracy"] > shares.max() + 0.05


# the network fitted here for 20 epochs only needs weights to fold, not to converge
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_segmentation_model_is_one_network_with_its_scaling_folded_in(quick_artifacts):
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler
    from digits.lab.segmenter import folded
    segmenter, _ = load_segmenter(quick_artifacts / "model.joblib")
    assert type(segmenter) is MLPClassifier  # one predict_proba, not a Pipeline's two steps
    # folding a scaler into a network keeps its probabilities, for features far from scaled
    rng = np.random.default_rng(0)
    features = np.hstack([rng.integers(0, 17, (300, 64)), rng.random((300, 4)) * 3])
    labels = rng.integers(0, 3, 300)
    scaler = StandardScaler().fit(features)
    network = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(
        scaler.transform(features), labels)
    first_layer = network.coefs_[0].copy()
    assert np.allclose(folded(scaler, network).predict_proba(features),
                       network.predict_proba(scaler.transform(features)), rtol=0, atol=1e-12)
    assert np.array_equal(network.coefs_[0], first_layer)  # the fitted network is left as it is


def test_the_network_takes_counts_0_to_16_directly(quick_artifacts):
    from sklearn.datasets import load_digits
    estimator = load_estimator(quick_artifacts / "model.joblib")
    images, labels = load_digits(return_X_y=True)
    assert (estimator.predict(images) == labels).mean() > 0.8


def test_probabilities_are_predict_probas_in_digit_order_one_row_per_image(quick_artifacts):
    from sklearn.datasets import load_digits
    estimator = load_estimator(quick_artifacts / "model.joblib")
    images = load_digits().data[:5]
    answer = probabilities(estimator, images.reshape(5, 8, 8))
    assert answer.shape == (5, 10)
    assert np.array_equal(answer, estimator.predict_proba(images))


def test_the_segmentation_model_alone_is_trained_beside_the_digit_model_already_there(
        quick_artifacts, tmp_path, capsys):
    """`--segmenter-only` writes a new segmentation model and its metadata beside the digit
    model in the output directory and leaves that model as it was; with no digit model there
    it refuses before training anything."""
    for name in ("model.joblib", "model.json"):
        (tmp_path / name).write_bytes((quick_artifacts / name).read_bytes())
    train.main(["--output-dir", str(tmp_path), "--seed", "5", "--string-copies", "1",
                "--segmenter-only"])
    assert "segmentation model:" in capsys.readouterr().out
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "model.joblib", "model.json", "segmenter.joblib", "segmenter.json"]
    for name in ("model.joblib", "model.json"):
        assert (tmp_path / name).read_bytes() == (quick_artifacts / name).read_bytes()
    segmenter, metadata = load_segmenter(tmp_path / "model.joblib")
    assert metadata["hyperparameters"]["random_state"] == 5
    with pytest.raises(SystemExit):
        train.main(["--output-dir", str(tmp_path / "empty"), "--segmenter-only"])
    assert not (tmp_path / "empty").exists()
