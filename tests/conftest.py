"""Shared fixtures: the app built on the committed model, a test client, a real gunicorn."""

import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.run import start, wait_ready
from service import create_app

ROOT = Path(__file__).resolve().parent.parent
TEST_IMAGES = sorted((ROOT / "test_images").glob("[0-9]_*.*"))


@pytest.fixture
def app():
    """The service with the committed model and default settings."""
    return create_app({"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def encode(image, fmt="PNG", **params):
    """Bytes of a Pillow image (or a uint8 array) saved in `fmt`."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def post_image(client, data, field="image", filename="digit.png", query=""):
    """POST bytes as a multipart upload to /predict."""
    return client.post(f"/predict{query}", data={field: (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def start_gunicorn(env_overrides=None, workers=1):
    """Start gunicorn as the Procfile does, on a free port, keeping its output for the test;
    returns (process, url)."""
    return start("service:create_app()", env={"WEB_CONCURRENCY": str(workers),
                                              **(env_overrides or {})},
                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="session")
def server_url():
    """A real gunicorn process serving the committed model, started from gunicorn.conf.py."""
    process, url = start_gunicorn(workers=2)
    try:
        wait_ready(url, "/health", process=process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def pytest_addoption(parser):
    parser.addoption("--screenshot", default=None,
                     help="save a screenshot of the browser page to this path (README)")
