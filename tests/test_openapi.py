"""/openapi.json describes exactly the running configuration, and the live service keeps to it
under schemathesis with every check it has (`--checks all`)."""

import io
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import NUMBER_IMAGES, TEST_IMAGES, gunicorn_serving
from service import create_app

SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")
EVERY_FEATURE = {"API_KEYS": True, "METRICS": True, "RATE_LIMIT": "100000/minute",
                 "URL_FETCH": True, "CORS_ORIGINS": "https://example.org"}
# statuses only an optional feature gives, and that feature
FEATURE_RESPONSES = {"401": "API_KEYS", "402": "API_KEYS", "429": "RATE_LIMIT",
                     "502": "URL_FETCH", "504": "URL_FETCH"}


def description(config):
    app = create_app({"TESTING": True, **config})
    return app, app.test_client().get("/openapi.json").get_json()


@pytest.fixture(params=["default", "every feature on"])
def config(request, tmp_path):
    if request.param == "default":
        return {}
    return {**EVERY_FEATURE, "DATABASE_URL": f"sqlite:///{tmp_path / 'keys.sqlite3'}"}


def test_exactly_the_routes_that_are_on_are_described(config):
    app, document = description(config)
    routes = {(rule.rule, method.lower()) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static" for method in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, operations in document["paths"].items()
                 for method in operations}
    assert described == routes
    assert ("/metrics" in document["paths"]) == bool(config)


def test_feature_responses_and_bodies_only_when_their_feature_is_on(config):
    _, document = description(config)
    predict = document["paths"]["/predict"]["post"]
    for path in ("/predict", "/predict/batch", "/read", "/read/batch"):
        operation = document["paths"][path]["post"]
        for status, feature in FEATURE_RESPONSES.items():
            if not path.endswith("/batch") or feature != "URL_FETCH":  # a batch fetches no URL
                assert (status in operation["responses"]) == bool(config), (path, status)
        assert (operation.get("security") == [{"apiKey": []}]) == bool(config)
    assert ("application/json" in predict["requestBody"]["content"]) == bool(config)
    read = document["paths"]["/read"]["post"]
    assert ("application/json" in read["requestBody"]["content"]) == bool(config)
    assert ("securitySchemes" in document["components"]) == bool(config)
    assert "x-feature" not in str(document)


def test_the_file_field_is_required_and_the_batch_size_is_the_setting():
    _, document = description({"BATCH_MAX_FILES": 7, "MAX_DIGITS": 9})
    reading = document["components"]["schemas"]["Reading"]["properties"]
    assert reading["number"]["maxLength"] == reading["digits"]["maxItems"] == 9
    upload = document["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["anyOf"] == [{"required": ["image"]},
                                                                {"required": ["file"]}]
    for path in ("/predict/batch", "/read/batch"):
        batch = document["paths"][path]["post"]["requestBody"]["content"]
        schema = batch["multipart/form-data"]["schema"]
        assert schema["required"] == ["images"]
        assert (schema["properties"]["images"]["minItems"],
                schema["properties"]["images"]["maxItems"]) == (1, 7)


@pytest.mark.parametrize("path, field", [("/predict", "image"), ("/read", "image"),
                                         ("/predict/batch", "images"),
                                         ("/read/batch", "images")])
def test_real_answers_match_their_described_schema(path, field):
    """A batch result is the single answer plus `filename`: the schemas must allow exactly that."""
    app, document = description({})
    number = NUMBER_IMAGES[0].read_bytes()
    files = [(io.BytesIO(number if path.startswith("/read") else TEST_IMAGES[0].read_bytes()),
              "a.png")]
    if path.endswith("/batch"):
        files.append((io.BytesIO(b"junk"), "b.txt"))
    response = app.test_client().post(path, data={field: files if len(files) > 1 else files[0]})
    assert response.status_code == 200
    schema = document["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]
    validator = jsonschema.Draft202012Validator(
        {**schema["schema"], "components": document["components"]})
    assert list(validator.iter_errors(response.get_json())) == []
    body = response.get_json()
    answers = body["results"] if path.endswith("/batch") else [body]
    for surprised in ({**body, "surprise": 1}, {**answers[0], "surprise": 1}):
        if path.endswith("/batch") and "results" not in surprised:
            surprised = {"results": [surprised]}
        assert list(validator.iter_errors(surprised)) != []


def test_a_404_names_the_routes_that_are_on(config):
    app, _ = description(config)
    detail = app.test_client().get("/nowhere").get_json()["detail"]
    assert "POST /predict/batch" in detail and "GET /openapi.json" in detail
    assert "POST /read/batch" in detail
    assert ("GET /metrics" in detail) == bool(config)


def test_the_live_service_passes_every_schemathesis_check(server_url, tmp_path):
    """The default configuration, as the Procfile starts it."""
    schemathesis_passes(server_url, tmp_path)


@pytest.mark.server
def test_with_every_optional_feature_on_too(tmp_path):
    database = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    result = create_app({"API_KEYS": True, "DATABASE_URL": database}).test_cli_runner().invoke(
        args=["keys", "create", "--name", "schemathesis", "--credits", "100000"])
    key = re.search(r"^dg_\S+$", result.output, re.M).group(0)
    env = {f"DIGITS_{name}": str(value).lower() if value is True else value
           for name, value in EVERY_FEATURE.items()}
    with gunicorn_serving({**env, "DIGITS_DATABASE_URL": database}) as url:
        schemathesis_passes(url, tmp_path, "-H", f"Authorization: Bearer {key}")


def schemathesis_passes(url, workdir, *options):
    """Run the schemathesis CLI with every check against the service at `url`; fail with its
    report unless every generated request passed."""
    command = [str(Path(sys.executable).with_name("schemathesis")),
               "--config-file", str(SCHEMATHESIS_CONFIG), "run", "--checks", "all",
               "--seed", "1", *options, f"{url}/openapi.json"]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"\d+ generated, \d+ passed", result.stdout), result.stdout[-3000:]
