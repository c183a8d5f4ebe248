"""POST /predict with {"url": ...} (DIGITS_URL_FETCH): fetched like an upload, and never from
an address that is not public. A local server plays the internet: its network is trusted
through DIGITS_URL_TRUSTED_NETWORKS; everything else local stays refused."""

import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import TEST_IMAGES
from digits.service.config import ConfigError
from service import create_app

DIGIT = TEST_IMAGES[0].read_bytes()


class Handler(BaseHTTPRequestHandler):
    """Routes of the stand-in image host; every GET is logged in `seen`."""

    seen = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Handler.seen.append(self.path)
        route, _, query = self.path.partition("?")
        if route == "/digit.png":
            self.answer(200, DIGIT)
        elif route == "/redirect":
            self.answer(302, b"", Location=query)
        elif route == "/loop":
            self.answer(302, b"", Location="/loop")
        elif route == "/big":
            self.answer(200, b"\0" * 5000)
        elif route == "/big-unannounced":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"\0" * 5000)
            self.close_connection = True
        elif route == "/slow":
            time.sleep(1.5)
            self.answer(200, DIGIT)
        elif route == "/text":
            self.answer(200, b"<html>not an image</html>", **{"Content-Type": "image/png"})
        else:
            self.answer(404, b"missing")

    def answer(self, status, body, **headers):
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def host():
    """The stand-in image host on 127.0.0.1; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def fetching(**config):
    settings = {"TESTING": True, "URL_FETCH": True, "URL_TRUSTED_NETWORKS": "127.0.0.1/32",
                **config}
    return create_app(settings).test_client()


def predict_url(client, url, query=""):
    return client.post(f"/predict{query}", json={"url": url})


def test_an_image_url_is_fetched_and_answered_like_an_upload(host):
    response = predict_url(fetching(), f"{host}/digit.png", "?top_k=4")
    assert response.status_code == 200
    body = response.get_json()
    assert body["digit"] == int(TEST_IMAGES[0].name[0]) and len(body["top"]) == 4


def test_redirects_are_followed_when_they_stay_allowed(host):
    response = predict_url(fetching(), f"{host}/redirect?/digit.png")
    assert response.status_code == 200


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.2:9/digit.png", "127.0.0.2, which is not a public address"),
    ("http://localhost:9/digit.png", "not a public address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, which is not a public"),
    ("http://[::ffff:10.0.0.1]/", "10.0.0.1, which is not a public address"),
    ("http://0177.0.0.2/", "not a public address"),
    ("http://10.1.2.3/", "10.1.2.3, which is not a public address"),
    ("file:///etc/passwd", "Only http and https URLs"),
    ("ftp://example.com/a.png", "Only http and https URLs"),
    ("http://user:secret@127.0.0.1/", "user name or password"),
    ("http:///nohost", "Only http and https URLs"),
    ("http://no-such-host.invalid/", "could not be resolved"),
])
def test_urls_that_are_not_public_or_not_http_are_refused(url, words):
    response = predict_url(fetching(URL_TRUSTED_NETWORKS=""), url)
    assert response.status_code == 422
    body = response.get_json()
    assert body["type"] == "tag:digits-service,2026:url-refused"
    assert words in body["detail"]


def test_without_trusted_networks_the_local_host_is_refused_before_connecting(host):
    Handler.seen.clear()
    response = predict_url(fetching(URL_TRUSTED_NETWORKS=""), f"{host}/digit.png")
    assert response.status_code == 422
    assert "127.0.0.1, which is not a public address" in response.get_json()["detail"]
    assert Handler.seen == []


@pytest.mark.parametrize("target", ["http://127.0.0.2:{port}/digit.png",
                                    "http://169.254.169.254/latest/meta-data/"])
def test_every_redirect_is_checked_again(host, target):
    Handler.seen.clear()
    port = host.rsplit(":", 1)[1]
    response = predict_url(fetching(), f"{host}/redirect?{target.format(port=port)}")
    assert response.status_code == 422
    assert "not a public address" in response.get_json()["detail"]
    assert Handler.seen == [f"/redirect?{target.format(port=port)}"]


@pytest.mark.parametrize("path, status, slug, words", [
    ("/loop", 502, "url-fetch-failed", "redirected more than 3 times"),
    ("/missing", 502, "url-fetch-failed", "answered HTTP 404"),
    ("/big", 413, "image-too-large", "larger than the 1,000 bytes"),
    ("/big-unannounced", 413, "image-too-large", "larger than the 1,000 bytes"),
    ("/text", 415, "unsupported-image", "is not an image"),
    ("/slow", 504, "url-fetch-timed-out", "took longer than allowed"),
])
def test_fetch_failures_get_their_own_problem(host, path, status, slug, words):
    client = fetching(MAX_UPLOAD_BYTES=1000, URL_TIMEOUT=0.5)
    response = predict_url(client, f"{host}{path}")
    assert response.status_code == status
    body = response.get_json()
    assert body["type"] == f"tag:digits-service,2026:{slug}"
    assert words in body["detail"]
    assert "object at 0x" not in body["detail"] and "Errno" not in body["detail"]


def test_a_closed_port_is_a_bad_gateway():
    response = predict_url(fetching(), "http://127.0.0.1:9/digit.png")
    assert response.status_code == 502
    assert "connection was refused" in response.get_json()["detail"]


def test_https_certificates_are_verified(tmp_path):
    """A server with a self-signed certificate is refused: TLS is checked, not skipped."""
    import ssl
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        response = predict_url(fetching(), f"https://127.0.0.1:{port}/digit.png")
    finally:
        server.shutdown()
    assert response.status_code == 502
    assert "TLS certificate could not be verified" in response.get_json()["detail"]


@pytest.mark.parametrize("body, words", [
    ({"link": "http://x"}, '{"url": "https://example.com/digit.png"}'),
    ({"url": ""}, '{"url": '),
    ({"url": "http://a/" + "x" * 3000}, "at most 2048"),
    (["http://x"], '{"url": '),
])
def test_a_json_body_without_a_usable_url_gets_400(body, words):
    response = fetching().post("/predict", json=body)
    assert response.status_code == 400
    assert words in response.get_json()["detail"]


def test_uploads_still_work_when_fetching_is_on():
    response = fetching().post("/predict", data={"image": (open(TEST_IMAGES[0], "rb"), "a.png")})
    assert response.status_code == 200


def test_off_by_default_a_json_body_gets_415_saying_so(client, host):
    response = predict_url(client, f"{host}/digit.png")
    assert response.status_code == 415
    assert "fetching an image from a URL is turned off" in response.get_json()["detail"]


def test_a_trusted_network_that_does_not_parse_refuses_to_start():
    with pytest.raises(ConfigError, match="DIGITS_URL_TRUSTED_NETWORKS"):
        create_app({"URL_FETCH": True, "URL_TRUSTED_NETWORKS": "10.0.0.0/33"})
