"""The routes, thin: each turns a request into a call of the recognition core and its answer
into JSON. Two blueprints, so that features guard the reading routes as a group."""

import time

import numpy as np
from flask import Blueprint, current_app, g, jsonify, request

from digits.core.decoding import Limits
from digits.core.errors import BatchTimeExceeded, DigitsError
from digits.core.model import probabilities
from digits.core.reading import read_digit, read_number
from digits.service import problems, signals
from digits.service.forms import parse_top_k, uploaded_batch, uploaded_bytes
from digits.service.responses import number_body, prediction_body


def reading_routes():
    """A new blueprint of the routes that read images (each app gets its own, since the
    features attach their hooks to it): POST /predict, /predict/batch, /read, /read/batch."""
    reading = Blueprint("reading", __name__)
    reading.add_url_rule("/predict", view_func=predict_route, methods=["POST"])
    reading.add_url_rule("/predict/batch", view_func=batch_route, methods=["POST"])
    reading.add_url_rule("/read", view_func=read_route, methods=["POST"])
    reading.add_url_rule("/read/batch", view_func=read_batch_route, methods=["POST"])
    return reading


def about_routes():
    """A new blueprint of the routes about the service: the page, health, model, OpenAPI."""
    about = Blueprint("about", __name__)
    about.add_url_rule("/", view_func=page_route)
    about.add_url_rule("/health", view_func=health_route)
    about.add_url_rule("/model", view_func=model_route)
    about.add_url_rule("/openapi.json", view_func=openapi_route)
    return about


def page_route():
    """GET /: the browser page (plain HTML, CSS and JavaScript; works offline)."""
    return current_app.send_static_file("index.html")


def openapi_route():
    """GET /openapi.json: the OpenAPI 3.1 description of this configuration's endpoints."""
    return jsonify(current_app.extensions["digits.openapi"])


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
    uploads = uploaded_batch(current_app.config["BATCH_MAX_FILES"])
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
