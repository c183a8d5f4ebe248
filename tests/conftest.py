"""Shared fixtures: the app built on the committed model, a test client, a real gunicorn."""

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

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


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env_overrides=None, workers=1):
    """Start gunicorn as the Procfile does, on a free port; returns (process, url)."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1",
           "WEB_CONCURRENCY": str(workers), **(env_overrides or {})}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    return process, f"http://127.0.0.1:{port}"


def wait_until_healthy(process, url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stdout.read()}")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not become healthy")


@pytest.fixture(scope="session")
def server_url():
    """A real gunicorn process serving the committed model, started from gunicorn.conf.py."""
    process, url = start_gunicorn(workers=2)
    try:
        wait_until_healthy(process, url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def pytest_addoption(parser):
    parser.addoption("--screenshot", default=None,
                     help="save a screenshot of the browser page to this path (README)")
