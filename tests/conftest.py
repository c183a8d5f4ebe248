"""Shared fixtures: the app built on the committed model, a test client, a real gunicorn."""

import io
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from bench.run import start, wait_ready
from service import create_app

ROOT = Path(__file__).resolve().parent.parent
TEST_IMAGES = sorted((ROOT / "test_images").glob("[0-9]_*.*"))
NUMBER_IMAGES = sorted((ROOT / "test_images").glob("number_*.*"))  # number_<digits>_<kind>


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


def post_image(client, data, field="image", filename="digit.png", query="", path="/predict"):
    """POST bytes as a multipart upload to /predict (or `path`)."""
    return client.post(f"{path}{query}", data={field: (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def start_gunicorn(env_overrides=None, workers=1):
    """Start gunicorn as the Procfile does, on a free port; returns (process, url).

    Its output goes to a temporary file, `process.log` (read it with `output(process)`): a pipe
    that nobody reads fills at 64 kB, and then every worker blocks on its next log line.
    """
    log = tempfile.TemporaryFile("w+")
    process, url = start("service:create_app()", env={"WEB_CONCURRENCY": str(workers),
                                                      **(env_overrides or {})},
                         stdout=log, stderr=subprocess.STDOUT)
    process.log = log
    return process, url


def output(process):
    """All that a process from `start_gunicorn` has printed so far."""
    process.log.seek(0)
    return process.log.read()


@contextmanager
def gunicorn_serving(env_overrides=None, workers=1):
    """A running gunicorn (as the Procfile starts it) with these settings; yields its URL and
    stops it afterwards."""
    process, url = start_gunicorn(env_overrides, workers)
    try:
        try:
            wait_ready(url, "/health", process=process)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{output(process)[-5000:]}") from None
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.log.close()


def parallel_predictions(url, count, data, headers=None, threads=8):
    """POST `count` uploads of `data` to {url}/predict from `threads` threads at once; returns
    their status codes."""
    def one(_):
        return requests.post(f"{url}/predict", files={"image": ("a.png", data)},
                             headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(count)))


@pytest.fixture(scope="session")
def server_url():
    """A real gunicorn process serving the committed model, started from gunicorn.conf.py."""
    with gunicorn_serving(workers=2) as url:
        yield url


def pytest_addoption(parser):
    parser.addoption("--screenshot", default=None,
                     help="save a screenshot of the browser page to this path (README)")
