"""The routes, thin: each turns a request into a call of the recognition core and its answer
into JSON. Two blueprints, so that features guard the reading routes as a group."""

import time

from flask import Blueprint, current_app, jsonify, request

from digits.core.errors import DigitsError
from digits.service import problems, signals, state
from digits.service.errors import BatchTimeExceeded
from digits.service.forms import image_bytes, parse_top_k, uploaded_batch
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
    return jsonify(state.openapi())


def health_route():
    """GET /health: liveness, uptime and which model is loaded."""
    started, started_at = state.started()
    metadata = state.model_metadata()
    return jsonify({
        "status": "ok",
        "uptime_seconds": round(time.monotonic() - started, 3),
        "started_at": started_at.isoformat(timespec="seconds"),
        "model_sha256": metadata["sha256"],
        "model_trained_at": metadata.get("trained_at"),
    })


def model_route():
    """GET /model: the loaded model's metadata (`model.json`)."""
    return jsonify(state.model_metadata())


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
    data = image_bytes()
    accept(1)
    return answer(data, top_k)


def answer_batch(answer):
    """{"results": [...]}: `answer(data, top_k)` for every image of the form's `images` field,
    one credit each; a file that fails gets its problem document in its place, and the others
    are still answered."""
    top_k = parse_top_k(request.args.get("top_k"))
    uploads = uploaded_batch(current_app.config["BATCH_MAX_FILES"])
    accept(len(uploads))
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
        except problems.REFUSALS as error:
            results.append({"filename": name, "error": problems.problem_body(error)})
    return {"results": results}


def digit_answer(data, top_k):
    """The prediction body for one image's bytes; raises the reader's refusals (SeveralDigits
    for an image that holds a number)."""
    digit = read_and_report(state.reader().read_digit, data)
    signals.predicted.send(current_app._get_current_object(), digit=digit.digit)
    return prediction_body(digit, top_k)


def number_answer(data, top_k):
    """The number body for one image's bytes; raises the reader's refusals."""
    reading = read_and_report(state.reader().read_number, data)
    for digit in reading.digits:
        signals.predicted.send(current_app._get_current_object(), digit=digit.digit)
    return number_body(reading, top_k)


def read_and_report(read, data):
    """`read(data)`; a refusal of the image is reported to the listeners (metrics count them
    by problem type) and raised again."""
    try:
        return read(data)
    except DigitsError as error:
        signals.rejected.send(current_app._get_current_object(),
                              reason=problems.problem_of(error).slug)
        raise


def accept(images):
    """Tell the listeners that the request's `images` are accepted for reading (with API keys
    on, they are charged: one credit each, or CreditsExhausted)."""
    signals.accepted.send(current_app._get_current_object(), images=images)
