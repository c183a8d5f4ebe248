"""What an app holds once it is built, each behind its accessor: the reader (the model and the
reading settings), the model's metadata, when the app started and its OpenAPI document."""

import time
from datetime import datetime, timezone

from flask import current_app

from digits.core.decoding import Limits
from digits.core.reading import load_reader
from digits.service.openapi import openapi_document

_KEY = "digits.state"


def init_app(app):
    """Load the models, build the app's reader from its settings (the threshold is the
    model's unless DIGITS_CONFIDENCE_THRESHOLD is set) and its OpenAPI document. Raises
    ModelUnavailable."""
    config = app.config
    reader, metadata = load_reader(config["MODEL_PATH"], config["CONFIDENCE_THRESHOLD"],
                                   Limits(config["MAX_PIXELS"], config["MAX_DECODED_BYTES"],
                                          config["MAX_PIXEL_DATA"]),
                                   config["MAX_DIGITS"])
    app.extensions[_KEY] = {"reader": reader, "metadata": metadata,
                            "started": (time.monotonic(), datetime.now(timezone.utc)),
                            "openapi": openapi_document(config)}


def reader():
    """The current app's Reader."""
    return current_app.extensions[_KEY]["reader"]


def model_metadata():
    """The loaded model's metadata (`model.json`)."""
    return current_app.extensions[_KEY]["metadata"]


def started():
    """(monotonic clock, UTC datetime) of when the current app was built."""
    return current_app.extensions[_KEY]["started"]


def openapi():
    """The current app's OpenAPI document."""
    return current_app.extensions[_KEY]["openapi"]
