"""Shared fixtures: the app built on the committed model, a test client, a real gunicorn."""

import glob
import io
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image, ImageDraw, ImageFilter

from bench.run import free_port, start, wait_listening, wait_ready
from digits.core.model import SHIPPED_MODEL
from digits.core.reading import load_reader
from digits.lab.handwriting import handwriting
from digits.lab.hostile import encode, png_chunk  # noqa: F401 (the tests' encoder, from conftest)
from digits.lab.uploads import render_number
from service import create_app

ROOT = Path(__file__).resolve().parent.parent
TEST_IMAGES = sorted((ROOT / "test_images").glob("[0-9]_*.*"))
NUMBER_IMAGES = sorted((ROOT / "test_images").glob("number_*.*"))  # number_<digits>_<kind>
READER, METADATA = load_reader(SHIPPED_MODEL)  # the service's, with its defaults
ESTIMATOR = READER.estimator


# Tests that use these fixtures start real servers; they are marked `server` (as are the tests
# and modules that start gunicorn, nginx, a browser or a container themselves), so that
# `pytest -m "not server"` is the fast inner loop.
SERVER_FIXTURES = {"server_url", "redis_url", "postgres"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)


@pytest.fixture
def app():
    """The service with the committed model and default settings."""
    return create_app({"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def png_header(width, height):
    """A PNG that declares width x height pixels but holds almost no data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + png_chunk(b"IEND", b""))


def digit_png():
    """A clear dark-on-light '1'-like stroke: an image that does hold a digit."""
    page = np.full((120, 120), 250, dtype=np.uint8)
    page[15:105, 52:66] = 20
    return encode(page)


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
def gunicorn_serving(env_overrides=None, workers=1, process=False):
    """A running gunicorn (as the Procfile starts it) with these settings; yields its URL (with
    `process`: the URL and the process, whose output `output` reads) and stops it afterwards."""
    server, url = start_gunicorn(env_overrides, workers)
    try:
        try:
            wait_ready(url, "/health", process=server)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{output(server)[-5000:]}") from None
        yield (url, server) if process else url
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.log.close()


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


@contextmanager
def dropping_connections(address, port):
    """While open, a listening socket on (address, port) whose queue is full, so that the
    kernel drops every further connection's SYN, as an address nobody answers at any more does
    (podman gives a container started again another address, and a stopped one's is gone)."""
    listener = socket.socket()
    queued = []
    try:
        listener.bind((address, port))
        listener.listen(0)
        for _ in range(2):  # the queue holds backlog + 1; the second waits in the SYN queue
            client = socket.socket()
            queued.append(client)
            client.setblocking(False)
            client.connect_ex((address, port))
        yield
    finally:
        for sock in (listener, *queued):
            sock.close()


class PostgresServer:
    """A throwaway PostgreSQL server (Debian's postgresql package) in a temporary folder, that
    a test can stop and start again: `url` is its base URL."""

    def __init__(self):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not binaries:
            if os.environ.get("CI"):
                pytest.fail("CI must run the PostgreSQL key tests: install Debian's postgresql")
            pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin, self.data = binaries[-1], tempfile.mkdtemp(prefix="digits-pg-")
        self.as_owner = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.data, "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}"
        self._run("initdb", "-D", f"{self.data}/db", "--auth=trust", "-U", "postgres")
        self.start()

    def _run(self, tool, *args):
        subprocess.run([*self.as_owner, f"{self.bin}/{tool}", *args], check=True,
                       capture_output=True)

    def start(self):
        self._run("pg_ctl", "-D", f"{self.data}/db", "-w", "-l", f"{self.data}/log", "-o",
                  f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self._run("pg_ctl", "-D", f"{self.data}/db", "-m", "immediate", "stop")

    def remove(self):
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server for a module; yields its base URL."""
    server = PostgresServer()
    try:
        yield server.url
    finally:
        server.remove()


def start_redis(folder, port, tls=None):
    """A throwaway redis-server on `port` (Debian's redis-server package), listening once this
    returns: its process; with `tls` ((certificate, key) files), on TLS alone. Skips where it
    is not installed (a failure under CI)."""
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the shared-limit tests: install Debian's redis-server")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    listening = (["--port", str(port)] if tls is None else
                 ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tls[0]),
                  "--tls-key-file", str(tls[1]), "--tls-auth-clients", "no"])
    process = subprocess.Popen([server, *listening, "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, process)
    return process


@contextmanager
def redis_serving(folder):
    """A throwaway redis-server on a free port; yields its URL."""
    port = free_port()
    process = start_redis(folder, port)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway redis-server for one test."""
    with redis_serving(tmp_path) as url:
        yield url


def create_key(app, credits, name="test"):
    """An API key made through the admin CLI of `app`, as an administrator would; returns
    (id, key)."""
    result = app.test_cli_runner().invoke(args=["keys", "create", "--name", name,
                                                "--credits", str(credits)])
    assert result.exit_code == 0, result.output
    key = re.search(r"^dg_\S+$", result.output, re.M).group(0)
    return key.split("_")[1], key


def small_writing_page(ink=70, size=36, width=4):
    """A phone-photo-sized page (800x600, blurred, JPEG) of five lines of 0s and 1s written
    small: each digit `size` pixels tall, 2-3 pixels on the page's 64-pixel copy."""
    image = Image.new("L", (800, 600), 200)
    draw = ImageDraw.Draw(image)
    for row in range(5):
        top = 100 + round(size * 2.2) * row
        for index in range(3):
            left = 300 + round(size * 1.1) * index
            if (row + index) % 2:
                middle = left + size // 3
                draw.line([(middle, top), (middle, top + size)], fill=ink, width=width)
            else:
                draw.ellipse([left, top, left + round(size * 0.65), top + size], outline=ink,
                             width=width)
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(1.5)).save(out, "JPEG", quality=75)
    return out.getvalue()


def narrow_touching_pair():
    """Dev digits 92 and 93 (a 3 and a 1) drawn touching on a scan, the pair narrower than it
    is tall and alone on the page: one digit to /predict's reading, two to /read's."""
    images, _ = handwriting("dev")
    return render_number(images[92:94], "scan", "touching", 92)
