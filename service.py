"""The digits HTTP service: an app factory and thin routes over `digits.*` functions.

Run it with `gunicorn -c gunicorn.conf.py` (see README.md); `flask --app service run` for a
development server.
"""

import importlib
import re
import time
from datetime import datetime, timezone

import numpy as np
from flask import Flask, current_app, g, jsonify, request

from digits import config as settings
from digits import keys, problems, signals
from digits.errors import (BadUpload, BatchTimeExceeded, DigitsError, TooManyFiles,
                           UnsupportedBody)
from digits.decoding import Limits
from digits.model import load_model, probabilities
from digits.openapi import describe
from digits.reading import read_digit, read_number
from digits.responses import number_body, prediction_body

FILE_FIELDS = ("image", "file")  # `file` is accepted as an alias
BATCH_FIELD = "images"
MAX_TOP_K = 10
# Optional features: the setting that turns each on, and the module that installs it. A module
# is imported only when its feature is on, so the default deploy never loads their libraries.
# In this order: metrics time everything; keys identify the caller before the rate limiter.
OPTIONAL_FEATURES = (
    ("METRICS", "digits.metrics"),
    ("API_KEYS", "digits.keys"),
    ("RATE_LIMIT", "digits.ratelimit"),
    ("CORS_ORIGINS", "digits.cors"),
    ("URL_FETCH", "digits.fetch"),
)


def create_app(config=None):
    """Build the app: settings from defaults, then `DIGITS_*` variables, then `config`.

    Raises ConfigError for an unusable setting and ModelUnavailable when the model is missing
    or fails its integrity check, so that a broken deploy refuses to start.
    """
    app = Flask(__name__, static_folder=str(settings.ROOT / "digits" / "static"))
    app.json.sort_keys = False  # keep answers in the documented order: digit first
    app.config.update(settings.defaults())
    app.config.from_prefixed_env("DIGITS")
    app.config.update(config or {})
    settings.validate(app.config)
    app.extensions["digits.model"], app.extensions["digits.metadata"] = load_model(
        app.config["MODEL_PATH"])
    app.extensions["digits.started"] = (time.monotonic(), datetime.now(timezone.utc))
    problems.register(app)
    app.cli.add_command(keys.cli)  # `flask --app service keys ...`, whether keys are on or not
    app.add_url_rule("/", view_func=page_route)
    app.add_url_rule("/predict", view_func=predict_route, methods=["POST"])
    app.add_url_rule("/predict/batch", view_func=batch_route, methods=["POST"])
    app.add_url_rule("/read", view_func=read_route, methods=["POST"])
    app.add_url_rule("/read/batch", view_func=read_batch_route, methods=["POST"])
    app.add_url_rule("/health", view_func=health_route)
    app.add_url_rule("/model", view_func=model_route)
    app.add_url_rule("/openapi.json", view_func=openapi_route)
    for setting, module in OPTIONAL_FEATURES:
        if app.config[setting]:
            importlib.import_module(module).register(app)
    app.extensions["digits.openapi"] = describe(app.config)
    return app


def page_route():
    """GET /: the browser page (plain HTML, CSS and JavaScript; works offline)."""
    return current_app.send_static_file("index.html")


def openapi_route():
    """GET /openapi.json: the OpenAPI 3.1 description of this configuration's endpoints."""
    return jsonify(current_app.extensions["digits.openapi"])


def predict_route():
    """POST /predict: classify the uploaded image (or, when enabled, the image at a URL)."""
    return jsonify(answer_one(digit_answer))


def read_route():
    """POST /read: read the handwritten number in the uploaded image, digit by digit."""
    return jsonify(answer_one(number_answer))


def batch_route():
    """POST /predict/batch: classify every image of the form's `images` field."""
    return jsonify(answer_batch(digit_answer))


def read_batch_route():
    """POST /read/batch: read the number in every image of the form's `images` field."""
    return jsonify(answer_batch(number_answer))


def answer_one(answer):
    """The body `answer(data, top_k)` gives for the request's one image (one credit)."""
    top_k = parse_top_k(request.args.get("top_k"))
    fetch = current_app.extensions.get("digits.fetch")
    data = fetch() if fetch and request.mimetype == "application/json" else uploaded_bytes()
    charge(1)
    return answer(data, top_k)


def answer_batch(answer):
    """{"results": [...]}: `answer(data, top_k)` for every image of the form's `images` field,
    one credit each; a file that fails gets its problem document in its place, and the others
    are still answered."""
    top_k = parse_top_k(request.args.get("top_k"))
    uploads = uploaded_batch()
    charge(len(uploads))
    deadline = time.monotonic() + current_app.config["BATCH_SECONDS"]
    results = []
    for upload in uploads:
        name = (upload.filename or "")[:200]
        try:
            if results and time.monotonic() > deadline:  # the first file is always answered
                raise BatchTimeExceeded(
                    f"The batch used its {current_app.config['BATCH_SECONDS']:g} seconds before "
                    "this file's turn. Send the files that were not processed again.")
            results.append({"filename": name, **answer(upload.read(), top_k)})
        except DigitsError as error:
            results.append({"filename": name, "error": problems.problem_body(error)})
    return {"results": results}


def digit_answer(data, top_k):
    """The prediction body for one image's bytes; raises the reading's DigitsErrors (also
    SeveralDigits for an image that holds a number)."""
    pixels = observed(read_digit, data)
    body = prediction_body(classify(pixels)[0], pixels, top_k,
                           current_app.config["CONFIDENCE_THRESHOLD"])
    signals.predicted.send(current_app._get_current_object(), digit=body["digit"])
    return body


def number_answer(data, top_k):
    """The number body for one image's bytes; raises the reading's DigitsErrors."""
    reading = observed(read_number, data)
    body = number_body(classify(np.stack(reading.pixels)), reading, top_k,
                       current_app.config["CONFIDENCE_THRESHOLD"])
    for digit in body["digits"]:
        signals.predicted.send(current_app._get_current_object(), digit=digit["digit"])
    return body


def observed(read, data):
    """`read(data, classify, limits, max_digits)` with this configuration's limits; a
    DigitsError is signalled as a rejected upload (metrics count them) and raised again."""
    config = current_app.config
    try:
        return read(data, classify, Limits(config["MAX_PIXELS"], config["MAX_DECODED_BYTES"]),
                    config["MAX_DIGITS"])
    except DigitsError as error:
        signals.rejected.send(current_app._get_current_object(), reason=error.slug)
        raise


def classify(pixels):
    """P(digit) rows of the loaded model for a stack of 8x8 count arrays."""
    return probabilities(current_app.extensions["digits.model"], pixels)


def charge(images):
    """Take one credit per image from the caller's key when API keys are on."""
    ledger = current_app.extensions.get("digits.keys")
    if ledger is not None:
        ledger.charge(g.api_key, images)


def health_route():
    """GET /health: liveness, uptime and which model is loaded."""
    started, started_at = current_app.extensions["digits.started"]
    metadata = current_app.extensions["digits.metadata"]
    return jsonify({
        "status": "ok",
        "uptime_seconds": round(time.monotonic() - started, 3),
        "started_at": started_at.isoformat(timespec="seconds"),
        "model_sha256": metadata["sha256"],
        "model_trained_at": metadata.get("trained_at"),
    })


def model_route():
    """GET /model: the loaded model's metadata (`model.json`)."""
    return jsonify(current_app.extensions["digits.metadata"])


def parse_top_k(raw):
    """The `top_k` query value as an int from 1 to 10 (3 when absent); BadUpload otherwise."""
    if raw is None:
        return 3
    if not re.fullmatch(r"[0-9]{1,2}", raw) or not 1 <= int(raw) <= MAX_TOP_K:
        raise BadUpload(f"top_k must be a whole number from 1 to {MAX_TOP_K}; got {raw[:20]!r}.")
    return int(raw)


def uploaded_bytes():
    """The bytes of the uploaded image from the multipart form.

    Raises UnsupportedBody for a body that is not multipart/form-data and BadUpload when
    the image field is missing or empty.
    """
    if request.mimetype != "multipart/form-data" and request.content_length:
        off = (" (fetching an image from a URL is turned off on this server)"
               if request.mimetype == "application/json" else "")
        raise UnsupportedBody(
            f"POST {request.path} takes multipart/form-data with the image in a file field named "
            f"'image'; the request body was {request.mimetype or 'of no declared type'}{off}.")
    upload = next((request.files[name] for name in FILE_FIELDS if name in request.files), None)
    if upload is None:
        as_text = next((name for name in FILE_FIELDS if name in request.form), None)
        if as_text:
            raise BadUpload(f"The field '{as_text}' holds text, not a file. Send the image as a "
                            f"file upload (with curl: -F {as_text}=@digit.png).")
        sent = sorted(set(request.files) | set(request.form))
        got = f" The form had: {', '.join(repr(n[:40]) for n in sent[:5])}." if sent else ""
        raise BadUpload("No image was uploaded. Send the image as multipart/form-data in a file "
                        f"field named 'image'.{got}")
    data = upload.read()
    if not data:
        raise BadUpload(f"The uploaded file {(upload.filename or '')[:100]!r} is empty. "
                        "Choose an image file that has content.")
    return data


def uploaded_batch():
    """The files of the form's `images` field, at most BATCH_MAX_FILES of them.

    Raises UnsupportedBody for a body that is not multipart/form-data, BadUpload when there is
    no file, and TooManyFiles over the limit.
    """
    if request.mimetype != "multipart/form-data":
        raise UnsupportedBody(
            f"POST {request.path} takes multipart/form-data with the images in file fields named "
            f"'{BATCH_FIELD}'; the request body was {request.mimetype or 'of no declared type'}.")
    uploads = request.files.getlist(BATCH_FIELD)
    limit = current_app.config["BATCH_MAX_FILES"]
    if not uploads:
        raise BadUpload(f"No images were uploaded. Send each image as a file field named "
                        f"'{BATCH_FIELD}' (with curl: -F {BATCH_FIELD}=@a.png "
                        f"-F {BATCH_FIELD}=@b.png).")
    if len(uploads) > limit:
        raise TooManyFiles(f"The batch has {len(uploads)} images; at most {limit} are accepted "
                           "in one request. Split it into several requests.")
    return uploads
