"""The bounds on what one upload may cost, end to end: the most expensive file of every accepted
format and mode that the default limits let through is answered, and a larger one is refused
with a 413 that says which limit and by how much (bench/memory.py measures what they cost in
memory, bench/worst.py in time)."""

import io
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from bench.memory import KINDS, encode, most_expensive
from conftest import post_image
from digits.core.decoding import Limits, decoding_costs


def needs_its_encoder(name):
    """Skip (fail in CI) a kind whose files only libavif's avifenc writes, when it is missing."""
    if "avifenc" in KINDS[name][2] and not shutil.which("avifenc"):
        if os.environ.get("CI"):
            pytest.fail("CI must build every kind: install Debian's libavif-bin (avifenc)")
        pytest.skip("avifenc is not installed (apt-get install libavif-bin)")


@pytest.mark.parametrize("name", list(KINDS))
def test_the_most_expensive_accepted_file_is_answered(client, name):
    needs_its_encoder(name)
    (width, height), data = most_expensive(name)
    response = post_image(client, data, filename=f"upload.{KINDS[name][1].lower()}")
    if len(data) > client.application.config["MAX_UPLOAD_BYTES"]:  # a raw BMP: a huge body
        assert response.status_code == 413
        return
    assert response.status_code == 200, response.get_json()
    # big enough to matter: near one limit or another (an RGBA AVIF's runs out at 2.3 MP)
    memory, pixel_data = decoding_costs(Image.open(io.BytesIO(data)), data)
    limits = Limits()
    assert max(memory / limits.decoded_bytes, pixel_data / limits.pixel_data,
               width * height / limits.pixels) > 0.4


@pytest.mark.parametrize("name, limit", [
    ("PNG RGBA", "pixel data"), ("TIFF L one strip", "pixel data"),
    ("JPEG L progressive", "pixel data"), ("PNG L", "pixel data"),
    ("PNG P transparency", "pixel data"), ("PNG 16-bit grey", "pixel data"),
    ("WebP lossless RGBA", "memory"), ("AVIF RGBA 12-bit 4:4:4", "pixel data")])
def test_a_costlier_file_is_refused_with_the_limit_it_is_over(client, name, limit):
    needs_its_encoder(name)
    (width, height), _ = most_expensive(name)
    mode, fmt, options = KINDS[name]
    larger = (int(width * 1.05), int(height * 1.05))  # ~10 % costlier, under the pixel limit
    data = encode(mode, fmt, larger, options)
    memory, pixel_data = decoding_costs(Image.open(io.BytesIO(data)), data)
    over_memory = memory > Limits().decoded_bytes
    assert over_memory == (limit == "memory")
    assert over_memory or pixel_data > Limits().pixel_data
    response = post_image(client, data)
    assert response.status_code == 413
    detail = response.get_json()["detail"]
    assert ("MB of memory, over the 67 MB allowed by" if over_memory else
            "MB of pixel data, over the 21 MB allowed by") in detail
    assert f"{larger[0]}x{larger[1]}" in detail


def test_an_upload_dense_with_coded_bytes_is_refused_with_what_its_decoding_would_take(client):
    # a 10 MB progressive JPEG of grain took a worker 261 ms to decode: its scans are read byte
    # by byte, each byte costing as much as 6 of inflated pixel data
    grain = np.random.default_rng(0).integers(0, 256, (1500, 1500, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grain).save(buffer, "JPEG", quality=100, progressive=True)
    response = post_image(client, buffer.getvalue(), filename="grain.jpg", path="/read")
    assert response.status_code == 413
    detail = response.get_json()["detail"]
    assert "decoding it would take as long as" in detail and "over the 21 MB allowed" in detail
    assert "as a baseline (not progressive) JPEG" in detail
