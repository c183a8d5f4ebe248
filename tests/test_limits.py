"""The bounds on what one upload may cost, end to end: the most expensive file of every accepted
format and mode that the default limits let through is answered, and a larger one is refused
with a 413 that says which limit and by how much (bench/memory.py measures what they cost)."""

import io

import pytest
from PIL import Image

from bench.memory import KINDS, cost, encode, most_expensive
from conftest import post_image
from digits.decoding import Limits


@pytest.mark.parametrize("name", list(KINDS))
def test_the_most_expensive_accepted_file_is_answered(client, name):
    (width, height), data = most_expensive(name)
    response = post_image(client, data, filename=f"upload.{KINDS[name][1].lower()}")
    if len(data) > client.application.config["MAX_UPLOAD_BYTES"]:  # a raw BMP: a huge body
        assert response.status_code == 413
        return
    assert response.status_code == 200, response.get_json()
    assert width * height > Limits().pixels / 10  # big enough to matter


@pytest.mark.parametrize("name", ["PNG RGBA", "WebP lossless RGBA", "TIFF L one strip",
                                  "JPEG L progressive", "BMP RLE8"])
def test_a_costlier_file_is_refused_with_the_limit_it_is_over(client, name):
    (width, height), _ = most_expensive(name)
    mode, fmt, options = KINDS[name]
    larger = (int(width * 1.05), int(height * 1.05))  # ~10 % costlier, under the pixel limit
    data = encode(mode, fmt, larger, options)
    assert cost(Image.open(io.BytesIO(data))) > Limits().decoded_bytes
    response = post_image(client, data)
    assert response.status_code == 413
    detail = response.get_json()["detail"]
    assert "MB of memory, over the 67 MB allowed by" in detail
    assert f"{larger[0]}x{larger[1]}" in detail
