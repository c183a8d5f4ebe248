"""The HTTP contract of POST /predict, GET /health, GET /model and the error documents."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

import service
from conftest import METADATA, digit_png, encode, png_header, post_image
from digits.lab.hostile import run_length_bmp
from digits.service import routes


def test_predict_answers_the_documented_body(client):
    response = post_image(client, digit_png())
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["digit", "confidence", "uncertain", "top", "probabilities", "pixels"]
    assert body["digit"] == 1
    assert len(body["probabilities"]) == 10
    assert sum(body["probabilities"]) == pytest.approx(1.0, abs=1e-6)
    assert body["confidence"] == max(body["probabilities"])
    assert body["probabilities"][body["digit"]] == body["confidence"]
    assert [entry["digit"] for entry in body["top"]][0] == body["digit"]
    assert len(body["top"]) == 3
    assert body["uncertain"] is (body["confidence"] < METADATA["confidence_threshold"])
    pixels = np.array(body["pixels"])
    assert pixels.shape == (8, 8) and pixels.min() >= 0 and pixels.max() <= 16


@pytest.mark.parametrize("pen", [4, 12, 24])
def test_a_plain_straight_stroke_is_a_sure_1(client, pen):
    # the simplest 1 a person draws on the page: no flag, no base, dead straight
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(140, 30), (140, 250)], fill=(0, 0, 0, 255), width=pen)
    body = post_image(client, encode(image)).get_json()
    assert (body["digit"], body["uncertain"]) == (1, False)


def test_top_k_sets_how_many_candidates_in_confidence_order(client):
    body = post_image(client, digit_png(), query="?top_k=10").get_json()
    confidences = [entry["confidence"] for entry in body["top"]]
    assert len(body["top"]) == 10
    assert confidences == sorted(confidences, reverse=True)
    assert sorted(entry["digit"] for entry in body["top"]) == list(range(10))


def test_file_is_accepted_as_an_alias_of_image(client):
    assert post_image(client, digit_png(), field="file").status_code == 200


def test_uncertain_follows_the_configured_threshold():
    strict = service.create_app({"CONFIDENCE_THRESHOLD": 1.0}).test_client()
    body = post_image(strict, digit_png()).get_json()
    assert body["uncertain"] is True


BAD_REQUESTS = [
    # (what is sent, status, words the detail must contain)
    ("no body", dict(), 400, "No image was uploaded"),
    ("wrong field", dict(data={"photo": (io.BytesIO(b"x"), "a.png")}), 400, "'photo'"),
    ("empty file", dict(data={"image": (io.BytesIO(b""), "a.png")}), 400, "is empty"),
    ("text field, no file", dict(data={"image": "not a file"}, content_type="multipart/form-data"),
     400, "holds text, not a file"),
    ("urlencoded form", dict(data={"image": "x"}), 415, "multipart/form-data"),
    ("multipart without boundary", dict(data=b"garbage", content_type="multipart/form-data"),
     400, "No image was uploaded"),
    ("truncated multipart", dict(
        data=b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n',
        content_type="multipart/form-data; boundary=xyz"), 400, "No image was uploaded"),
    ("bad top_k", dict(query_string={"top_k": "abc"}, data={"image": (io.BytesIO(b"x"), "a")}),
     400, "top_k must be a whole number from 1 to 10"),
    ("top_k too big", dict(query_string={"top_k": "11"}), 400, "from 1 to 10"),
    ("top_k zero", dict(query_string={"top_k": "0"}), 400, "from 1 to 10"),
    ("json body", dict(data=b'{"image": 1}', content_type="application/json"), 415,
     "multipart/form-data"),
    ("raw image body", dict(data=b"\x89PNG....", content_type="image/png"), 415,
     "multipart/form-data"),
    ("text file named .png", dict(data={"image": (io.BytesIO(b"hello world"), "a.png")}), 415,
     "PNG, JPEG, GIF, BMP, WebP, TIFF or AVIF"),
    ("pdf", dict(data={"image": (io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj"), "a.pdf")}), 415,
     "is not an image"),
    ("heic", dict(data={"image": (io.BytesIO(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
                                             + bytes(100)), "IMG_0001.HEIC")}), 415,
     "a HEIC/HEIF image (the iPhone camera's format), which this service does not read. Send "
     "it as a JPEG or PNG"),
    ("rle bmp", dict(data={"image": (io.BytesIO(run_length_bmp(64, 64)), "a.bmp")}), 415,
     "run-length compressed (RLE) BMP, which this service does not read. Send it as a PNG, or "
     "as a BMP without compression"),
    ("svg", dict(data={"image": (io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
                                 "a.svg")}), 415, "is not an image"),
    ("truncated png", dict(data={"image": (io.BytesIO(digit_png()[:80]), "a.png")}), 415,
     "could not be decoded"),
    ("declares 60000x60000", dict(data={"image": (io.BytesIO(png_header(60000, 60000)),
                                                  "a.png")}), 413, "60000x60000"),
    ("declares 1x2^31", dict(data={"image": (io.BytesIO(png_header(1, 2**31 - 1)), "a.png")}),
     413, "at most 40,000,000 pixels"),
    ("blank white", dict(data={"image": (io.BytesIO(encode(np.full((64, 64), 255, np.uint8))),
                                         "a.png")}), 422, "No digit was found"),
    ("uniform grey jpeg", dict(data={"image": (io.BytesIO(
        encode(np.full((64, 64, 3), 128, np.uint8), "JPEG")), "a.jpg")}), 422,
     "No digit was found"),
]


@pytest.mark.parametrize("sent, status, words", [case[1:] for case in BAD_REQUESTS],
                         ids=[case[0] for case in BAD_REQUESTS])
def test_bad_input_gets_a_problem_document(client, sent, status, words):
    response = client.post("/predict", **sent)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["status"] == status
    assert words in body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_upload_over_the_byte_limit_is_413():
    client = service.create_app({"MAX_UPLOAD_BYTES": 1000}).test_client()
    response = post_image(client, b"\x00" * 5000)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert "1,000 bytes" in response.get_json()["detail"]


def test_image_over_the_pixel_limit_is_413_before_decoding():
    client = service.create_app({"MAX_PIXELS": 100}).test_client()
    response = post_image(client, digit_png())
    assert response.status_code == 413
    assert "120x120" in response.get_json()["detail"]


def test_unknown_path_is_404_problem(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "/nope" in response.get_json()["detail"]


@pytest.mark.parametrize("method, path", [("get", "/predict"), ("delete", "/predict"),
                                          ("post", "/health"), ("put", "/model")])
def test_wrong_method_is_405_with_allow(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    allowed = response.headers["Allow"]
    assert ("POST" in allowed) == (path == "/predict")
    assert "is not allowed" in response.get_json()["detail"]


def test_unexpected_failure_is_500_without_internals(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("secret internal state <object at 0xdeadbeef>")

    monkeypatch.setattr(routes, "prediction_body", broken)
    response = post_image(client, digit_png())
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    text = response.get_data(as_text=True)
    assert "secret" not in text and "0xdeadbeef" not in text and "Traceback" not in text
    assert response.get_json()["title"] == "Internal Server Error"


def test_health_reports_uptime_start_and_model(client, app):
    body = client.get("/health").get_json()
    assert body["status"] == "ok"
    assert body["uptime_seconds"] >= 0
    assert body["started_at"].endswith("+00:00")
    assert body["model_sha256"] == METADATA["sha256"]


def test_model_serves_the_metadata_file(client, app):
    body = client.get("/model").get_json()
    assert body == METADATA
    assert body["classes"] == list(range(10))
    assert "heldout_accuracy" in body["metrics"]


def test_root_serves_the_browser_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b'id="canvas"' in response.data
    assert client.get("/static/app.js").status_code == 200
