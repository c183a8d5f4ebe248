"""Hostile and broken uploads: whatever the bytes, a digit or number read or a 4xx problem,
never a crash."""

import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import READER, digit_png, encode, post_image
from digits.core.errors import DigitsError
from digits.core.segmentation import segment
from digits.lab.hostile import declaring, degenerate_images, mutations, valid_files


def pixels_or_domain_error(data):
    """The reading (POST /read's, of which /predict's is the one-digit case): 8x8 counts per
    digit, or None for a DigitsError (a 4xx)."""
    try:
        found = READER.read_number(data)
    except DigitsError:
        return None
    assert 1 <= len(found.digits) <= 20
    assert all(len(digit.box) == 4 for digit in found.digits)
    assert all(d.pixels.shape == (8, 8) and d.pixels.max() <= 16 for d in found.digits)
    return [digit.pixels for digit in found.digits]


@settings(max_examples=150, deadline=None)
@given(st.integers(8, 64), st.integers(8, 400), st.floats(0.0, 0.6), st.integers(0, 2**32 - 1))
def test_any_line_mask_is_cut_into_digits_inside_it_or_refused(height, width, ink, seed):
    """Segmentation on arbitrary ink: digits left to right inside the mask, at most the limit,
    or a domain error (several lines, too many digits)."""
    line = np.random.default_rng(seed).random((height, width)) < ink
    try:
        digits, marks = segment(line, READER.judge, max_digits=8)
    except DigitsError:
        return
    assert len(digits) <= 8
    assert [d.box[0] for d in digits] == sorted(d.box[0] for d in digits)
    for part in [*digits, *marks]:
        left, top, right, bottom = part.box
        assert 0 <= left < right <= width and 0 <= top < bottom <= height


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about corrupt TIFF tags
@pytest.mark.parametrize("fmt", sorted(valid_files()))
def test_truncated_and_bit_flipped_files_never_crash(fmt):
    for case_fmt, data in mutations():
        if case_fmt == fmt:
            pixels_or_domain_error(data)


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_give_pixels_or_a_domain_error(data):
    pixels_or_domain_error(data)


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(valid_files())), st.data())
def test_any_damage_to_a_valid_file_gives_pixels_or_a_domain_error(fmt, data):
    original = valid_files()[fmt]
    cut = data.draw(st.integers(1, len(original)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, cut - 1), st.integers(0, 255)),
                               max_size=8))
    broken = bytearray(original[:cut])
    for index, value in flips:
        broken[index] = value
    pixels_or_domain_error(bytes(broken))


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=1024), field=st.sampled_from(["image", "file", "other"]))
def test_the_endpoint_answers_any_upload_with_200_or_a_4xx_problem(client, body, field):
    response = post_image(client, body, field=field)
    if response.status_code == 200:
        assert response.get_json()["digit"] in range(10)
    else:
        assert 400 <= response.status_code < 500
        assert response.mimetype == "application/problem+json"
        assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(st.binary(max_size=512), min_size=1, max_size=5))
def test_a_batch_of_any_files_gets_one_answer_or_4xx_problem_each(client, bodies):
    files = [(io.BytesIO(body), f"{index}.png") for index, body in enumerate(bodies)]
    response = client.post("/predict/batch", data={"images": files},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert len(results) == len(bodies)
    for result in results:
        assert "digit" in result or 400 <= result["error"]["status"] < 500
        assert "Traceback" not in json.dumps(result)


@pytest.mark.parametrize("image, status", [(image, 422) for image in degenerate_images().values()],
                         ids=list(degenerate_images()))
def test_degenerate_images_are_422(client, image, status):
    response = post_image(client, encode(image))
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_an_animated_gif_with_hundreds_of_frames_reads_only_the_first(client):
    frames = [Image.fromarray(np.random.default_rng(i).integers(0, 256, (64, 64), np.uint8))
              for i in range(300)]
    digit = np.full((64, 64), 255, np.uint8)
    digit[8:56, 28:36] = 0
    data = encode(Image.fromarray(digit), "GIF", save_all=True, append_images=frames)
    response = post_image(client, data, filename="many.gif")
    assert response.status_code == 200
    assert response.get_json()["digit"] == 1


def test_a_png_text_chunk_bomb_is_refused_not_inflated(client):
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text("bomb", "A" * (64 * 1024 * 1024), zip=True)  # 64 MB of text, compressed
    data = io.BytesIO()
    Image.new("L", (32, 32), 255).save(data, "PNG", pnginfo=info)
    assert len(data.getvalue()) < 1024 * 1024
    response = post_image(client, data.getvalue())
    assert response.status_code == 415  # Pillow stops inflating text chunks at 1 MB
    assert response.mimetype == "application/problem+json"


CORPUS = [
    # (name, multipart fields, status, words in the detail; None: a 200 reading the digit 1)
    ("GIF declares 60000x60000", {"image": (declaring("GIF", 60000, 60000), "a.gif")}, 413,
     "60000x60000"),
    ("JPEG declares 60000x60000", {"image": (declaring("JPEG", 60000, 60000), "a.jpg")}, 413,
     "60000x60000"),
    ("TIFF declares 60000x60000", {"image": (declaring("TIFF", 60000, 60000), "a.tif")}, 413,
     "60000x60000"),
    ("PNG of 400 MP zeros (388 kB)", {"image": (encode(Image.new("L", (20000, 20000))), "a.png")},
     413, "20000x20000"),
    ("PostScript named .png", {"image": (b"%!PS-Adobe-3.0\n", "a.png", "image/png")}, 415,
     "is not an image"),
    ("HTML named .jpg", {"image": (b"<html><body>hi</body></html>", "a.jpg", "image/jpeg")}, 415,
     "is not an image"),
    ("ZIP named .png", {"image": (b"PK\x03\x04" + bytes(100), "a.png", "image/png")}, 415,
     "is not an image"),
    ("path traversal filename", {"image": (digit_png(), "../../etc/passwd")}, 200, None),
    ("10000-character filename", {"image": (digit_png(), "a" * 10000 + ".png")}, 200, None),
    ("3000 form parts", {**{f"f{i}": "x" for i in range(3000)}, "image": (digit_png(), "a.png")},
     413, "more than 1,000 parts"),
    ("text field over 500 kB", {"note": "x" * 600_000, "image": (digit_png(), "a.png")}, 413,
     "text field over 500,000 bytes"),
]


@pytest.mark.parametrize("fields, status, words", [case[1:] for case in CORPUS],
                         ids=[case[0] for case in CORPUS])
def test_malicious_uploads_get_their_precise_answer(client, fields, status, words):
    data = {name: (io.BytesIO(value[0]), *value[1:]) if isinstance(value, tuple) else value
            for name, value in fields.items()}
    response = client.post("/predict", data=data, content_type="multipart/form-data")
    assert response.status_code == status
    if words is None:
        assert response.get_json()["digit"] == 1
        return
    assert response.mimetype == "application/problem+json"
    assert words in response.get_json()["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
