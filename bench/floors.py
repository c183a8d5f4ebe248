"""The references the service is measured against, served by the same gunicorn configuration.

- `flask_floor()`: a bare Flask app that reads the same multipart upload and answers fixed JSON
  (what Flask and Werkzeug cost on their own);
- `decode_floor()`: the same, plus fully decoding the image with Pillow;
- `plain_resize()`: what the usual image-classifier APIs do: the image shrunk to 8x8 grey
  levels as it is, and the same estimator's `predict_proba` (it reads little real handwriting
  right, but it is what users compare our speed with).
"""

import io

import joblib
import numpy as np
from flask import Flask, jsonify, request
from PIL import Image

from digits.core.model import SHIPPED_MODEL

ANSWER = {"digit": 7, "confidence": 1.0}


def flask_floor():
    """Read the upload, answer fixed JSON."""
    app = Flask(__name__)

    @app.post("/predict")
    def predict():
        request.files["image"].read()
        return jsonify(ANSWER)

    return app


def decode_floor():
    """Read the upload, decode every pixel with Pillow, answer fixed JSON."""
    app = Flask(__name__)

    @app.post("/predict")
    def predict():
        Image.open(io.BytesIO(request.files["image"].read())).load()
        return jsonify(ANSWER)

    return app


def plain_resize():
    """Read the upload, `convert("L").resize((8, 8))`, scale to 0..16, `predict_proba`."""
    app = Flask(__name__)
    estimator = joblib.load(SHIPPED_MODEL)

    @app.post("/predict")
    def predict():
        image = Image.open(io.BytesIO(request.files["image"].read()))
        pixels = np.asarray(image.convert("L").resize((8, 8)), dtype=np.float64) / 16
        probabilities = estimator.predict_proba(pixels.reshape(1, 64))[0]
        return jsonify({"digit": int(probabilities.argmax()),
                        "confidence": float(probabilities.max())})

    return app
