"""Hostile and broken uploads: whatever the bytes, a prediction or a 4xx problem, never a crash."""

import io
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import encode, post_image
from digits.errors import DigitsError
from digits.preprocess import upload_to_pixels

LIMIT = 40_000_000


def valid_files():
    """A small image in every accepted format, to mutate."""
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 48), dtype=np.uint8))
    return {fmt: encode(noise.convert("RGB") if fmt == "JPEG" else noise, fmt)
            for fmt in ("PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP")}


def mutations(count=150, seed=0):
    """Deterministic broken files: truncated or bit-flipped copies of valid ones."""
    rng = random.Random(seed)
    cases = []
    for fmt, data in valid_files().items():
        for trial in range(count):
            broken = bytearray(data)
            if trial % 2:
                broken = broken[: rng.randrange(1, len(broken))]
            else:
                for _ in range(rng.randrange(1, 8)):
                    broken[rng.randrange(len(broken))] = rng.randrange(256)
            cases.append((fmt, bytes(broken)))
    return cases


def pixels_or_domain_error(data):
    """The preprocessing answer: 8x8 counts, or None for a DigitsError (a 4xx)."""
    try:
        pixels = upload_to_pixels(data, LIMIT)
    except DigitsError:
        return None
    assert pixels.shape == (8, 8) and pixels.max() <= 16
    return pixels


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


@pytest.mark.parametrize("image, status", [
    (Image.new("L", (1, 1), 0), 422),
    (Image.new("L", (1, 5000), 255), 422),
    (Image.new("L", (5000, 1), 0), 422),
    (Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)), 422),
], ids=["1x1", "1x5000", "5000x1", "2x2-checker"])
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
