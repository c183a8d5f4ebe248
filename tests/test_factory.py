"""The app factory: settings from defaults, environment and test config; refusing a bad model."""

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import METADATA, ROOT, TEST_IMAGES
from digits.core.errors import ModelUnavailable
from digits.core.model import sha256_of
from digits.service import state
from digits.service.config import ConfigError
from service import create_app


MODEL_FILES = ("model.joblib", "model.json", "segmenter.joblib", "segmenter.json")

def test_defaults():
    config = create_app().config
    assert config["MAX_UPLOAD_BYTES"] == 10 * 1024 * 1024
    assert config["MAX_CONTENT_LENGTH"] == config["MAX_UPLOAD_BYTES"]
    assert config["MAX_PIXELS"] == 40_000_000
    assert config["MAX_DECODED_BYTES"] == 64 * 1024 * 1024
    assert config["MAX_PIXEL_DATA"] == 20 * 1024 * 1024
    assert config["CONFIDENCE_THRESHOLD"] is None  # unset: the model's own


def test_the_confidence_threshold_is_the_model_s_unless_it_is_set(monkeypatch):
    with create_app().app_context():
        assert state.reader().threshold == METADATA["confidence_threshold"]
    monkeypatch.setenv("DIGITS_CONFIDENCE_THRESHOLD", "0.8")
    with create_app().app_context():
        assert state.reader().threshold == 0.8


def test_a_model_without_a_threshold_is_refused(tmp_path):
    for name in MODEL_FILES:
        shutil.copy(ROOT / "artifacts" / name, tmp_path / name)
    metadata = {**METADATA}
    del metadata["confidence_threshold"]
    (tmp_path / "model.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelUnavailable, match="no confidence_threshold"):
        create_app({"MODEL_PATH": str(tmp_path / "model.joblib")})


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("DIGITS_MAX_PIXELS", "1000000")
    monkeypatch.setenv("DIGITS_CONFIDENCE_THRESHOLD", "0.8")
    config = create_app().config
    assert config["MAX_PIXELS"] == 1_000_000
    assert config["CONFIDENCE_THRESHOLD"] == 0.8


def test_optional_features_are_off_by_default():
    config = create_app().config
    assert [config[name] for name in ("URL_FETCH", "API_KEYS", "RATE_LIMIT", "CORS_ORIGINS",
                                      "METRICS")] == [False, False, "", "", False]


@pytest.mark.parametrize("value, expected", [("true", True), ("1", True), ("yes", True),
                                             ("on", True), ("false", False), ("0", False),
                                             ("off", False), ("", False)])
def test_booleans_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("DIGITS_METRICS", value)
    assert create_app().config["METRICS"] is expected


def test_test_config_overrides_environment(monkeypatch):
    monkeypatch.setenv("DIGITS_MAX_UPLOAD_BYTES", "5000")
    assert create_app({"MAX_UPLOAD_BYTES": 7000}).config["MAX_CONTENT_LENGTH"] == 7000


@pytest.mark.parametrize("name, value, words", [
    ("MAX_PIXELS", "lots", "DIGITS_MAX_PIXELS='lots' is not a valid int"),
    ("MAX_UPLOAD_BYTES", "0", "DIGITS_MAX_UPLOAD_BYTES=0 must be at least 1"),
    ("MAX_PIXELS", "1.5", "is not a valid int"),
    ("CONFIDENCE_THRESHOLD", "high", "is not a valid float"),
    ("CONFIDENCE_THRESHOLD", "2", "between 0 and 1"),
    ("METRICS", "maybe", "DIGITS_METRICS='maybe' is not a valid boolean (true or false)"),
    ("BATCH_MAX_FILES", "0", "DIGITS_BATCH_MAX_FILES=0 must be at least 1"),
    ("URL_TIMEOUT", "0", "DIGITS_URL_TIMEOUT=0.0 must be at least 0.1"),
])
def test_unreadable_setting_refuses_to_start(monkeypatch, name, value, words):
    monkeypatch.setenv(f"DIGITS_{name}", value)
    with pytest.raises(ConfigError, match=re.escape(words)):
        create_app()


@pytest.fixture
def model_copy(tmp_path):
    """A copy of the committed artifacts that a test may damage."""
    for name in MODEL_FILES:
        shutil.copy(ROOT / "artifacts" / name, tmp_path / name)
    return tmp_path / "model.joblib"


def test_missing_model_refuses_to_start(tmp_path):
    with pytest.raises(ModelUnavailable, match="missing: run `python train.py`"):
        create_app({"MODEL_PATH": str(tmp_path / "model.joblib")})


@pytest.mark.parametrize("name", ["model.joblib", "segmenter.joblib"])
def test_a_tampered_model_refuses_to_start(model_copy, name):
    damaged = model_copy.with_name(name)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailable, match=f"{name} has sha256 .* changed or damaged"):
        create_app({"MODEL_PATH": str(model_copy)})


@pytest.mark.parametrize("name", MODEL_FILES)
def test_any_missing_model_file_refuses_to_start(model_copy, name):
    (model_copy.parent / name).unlink()
    with pytest.raises(ModelUnavailable, match=f"{name} is missing"):
        create_app({"MODEL_PATH": str(model_copy)})


def record_model(model_copy, data):
    """Replace model.joblib (or the file `model_copy` names) with `data` and record its sha256,
    as if train.py had written it."""
    model_copy.write_bytes(data)
    meta_path = model_copy.with_suffix(".json")
    metadata = json.loads(meta_path.read_text())
    metadata["sha256"] = sha256_of(model_copy)
    meta_path.write_text(json.dumps(metadata))


@pytest.mark.parametrize("content, words", [
    (b"not a pickle at all", "could not be loaded"),
    ({"a": "dict"}, "not a classifier of 8x8 images"),
    ("wrong-inputs", "not a classifier of 8x8 images"),
], ids=["garbage", "not-a-classifier", "wrong-input-size"])
def test_a_recorded_file_that_is_not_a_digits_classifier_refuses_to_start(model_copy, content,
                                                                          words):
    import io

    import joblib
    from sklearn.dummy import DummyClassifier
    if content == "wrong-inputs":
        content = DummyClassifier().fit(np.zeros((10, 3)), np.arange(10))
    if not isinstance(content, bytes):
        buffer = io.BytesIO()
        joblib.dump(content, buffer)
        content = buffer.getvalue()
    record_model(model_copy, content)
    with pytest.raises(ModelUnavailable, match=words):
        create_app({"MODEL_PATH": str(model_copy)})


@pytest.mark.parametrize("features", [3, 68])
def test_a_recorded_segmenter_that_is_not_a_segmentation_model_refuses_to_start(model_copy,
                                                                                features):
    """Not 68 features, or not the three piece classes (one digit, fragment, several)."""
    import io

    import joblib
    from sklearn.dummy import DummyClassifier
    buffer = io.BytesIO()
    joblib.dump(DummyClassifier().fit(np.zeros((4, features)), [0, 1, 2, 3]), buffer)
    record_model(model_copy.with_name("segmenter.joblib"), buffer.getvalue())
    with pytest.raises(ModelUnavailable, match="segmenter.joblib is not a segmentation model"):
        create_app({"MODEL_PATH": str(model_copy)})


def test_the_service_loads_only_what_it_uses():
    """Neither the optional features' libraries while those features are off, nor Pillow's
    decoders for formats the service does not accept (PSD stands for the ~40 others), whatever
    the upload."""
    unwanted = ("flask_limiter", "flask_cors", "prometheus_client", "urllib3", "sqlite3",
                "PIL.PsdImagePlugin")
    code = ("import sys, service; client = service.create_app().test_client()\n"
            "for path in sys.argv[1:]:\n"
            "    assert client.post('/predict', data={'image': (open(path, 'rb'), path)}).json\n"
            f"print(sorted(m for m in {unwanted!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, *map(str, TEST_IMAGES)], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_model_from_another_scikit_learn_refuses_to_start(model_copy):
    meta_path = model_copy.with_suffix(".json")
    metadata = json.loads(meta_path.read_text())
    metadata["versions"]["scikit-learn"] = "0.24.2"
    meta_path.write_text(json.dumps(metadata))
    with pytest.raises(ModelUnavailable, match="scikit-learn 0.24.2"):
        create_app({"MODEL_PATH": str(model_copy)})


def test_model_path_from_environment(monkeypatch, model_copy):
    monkeypatch.setenv("DIGITS_MODEL_PATH", str(model_copy))
    assert create_app().config["MODEL_PATH"] == str(model_copy)
