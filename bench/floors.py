"""The floors the service is measured against, served by the same gunicorn configuration.

- `flask_floor()`: a bare Flask app that reads the same multipart upload and answers fixed JSON
  (what Flask and Werkzeug cost on their own);
- `decode_floor()`: the same, plus fully decoding the image with Pillow.
"""

import io

from flask import Flask, jsonify, request
from PIL import Image

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
