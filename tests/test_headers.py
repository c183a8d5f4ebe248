"""What an upload's headers hold that Pillow walks in Python is counted before it opens them, and
an upload that holds more than an image needs is refused at once (415), whatever its format:
Pillow spent seconds on such 10 MB files (digits/core/headers.py)."""

import io
import struct

import numpy as np
import pytest
from PIL import Image

from conftest import encode, post_image
from digits.core import decoding, headers
from digits.core.errors import NotAnImage
from digits.lab.hostile import black_tiff, exif_block, mutations, padded

MOST = decoding.MAX_SEGMENTS


@pytest.mark.parametrize("fmt, kind, each, base", [
    ("PNG", "empty", 1, 3),  # IHDR, IDAT, IEND and the empty chunks
    ("PNG", "inflating", headers.INFLATED_CHUNK, 3),  # an iCCP chunk Pillow inflates
    ("PNG", "exif", 1, 4),  # the eXIf chunk and its directory's entries
    ("JPEG", "empty", 1, None),  # comment segments before the scan
    ("GIF", "empty", 1, 1),  # a comment extension and its sub-blocks
])
def test_the_headers_segments_are_counted_as_pillow_walks_them(fmt, kind, each, base):
    plain = headers.segments(padded(fmt, 0, kind), MOST)
    assert base is None or plain == base
    assert headers.segments(padded(fmt, 5, kind), MOST) == plain + 5 * each


def test_a_jpegs_stray_bytes_between_markers_count_one_each():
    # Pillow steps over bytes that are not a marker one at a time
    data = encode(Image.new("L", (16, 16), 255), "JPEG")
    assert headers.segments(data[:2] + b"\x00" * 7 + data[2:], MOST) == \
        headers.segments(data, MOST) + 7


def test_a_tiffs_and_an_exif_blocks_first_directory_counts_its_entries():
    assert headers.segments(black_tiff(8, 8), MOST) == 10  # the ten tags black_tiff writes
    exif = b"Exif\x00\x00MM\x00*" + struct.pack(">IH", 8, 3000)  # a WebP's EXIF chunk
    webp = encode(Image.new("RGB", (16, 16)), "WEBP", exif=exif + bytes(12 * 3000 + 4))
    assert headers.segments(webp, MOST) == 3003  # its VP8X, VP8 and EXIF chunks, the entries


def test_an_avifs_exif_is_found_through_its_item_boxes_and_its_entries_counted():
    # Pillow parses an AVIF's EXIF when it opens it: 65,535 entries took 290-410 ms
    plain = encode(Image.new("RGB", (16, 16)), "AVIF")
    assert headers.segments(plain, MOST) == 0  # libavif reads the boxes; no EXIF
    with_exif = encode(Image.new("RGB", (16, 16)), "AVIF", exif=exif_block(3000))
    assert headers.segments(with_exif, MOST) == 3000
    with pytest.raises(NotAnImage, match="far more chunks"):
        decoding.decode_image(encode(Image.new("RGB", (16, 16)), "AVIF", exif=exif_block(MOST + 1)))


def test_counting_stops_once_past_the_most():
    # a walk stops at most + 1 (or a little past, within one chunk's entries)
    assert headers.segments(padded("PNG", 100_000), 10) == 11
    assert headers.segments(padded("GIF", 100_000), 10) == 11
    webp = encode(Image.new("RGB", (16, 16)), "WEBP")
    junk = b"junk" + struct.pack("<I", 0)  # a million empty chunks before its image
    padded_webp = webp[:12] + junk * 1_000_000 + webp[12:]
    assert headers.segments(padded_webp, 10) == 11
    assert decoding._is_lossy_webp(padded_webp)  # none found in MAX_SEGMENTS: the dearer


def test_the_walk_for_an_avifs_configuration_stops_after_the_most_boxes():
    avif = encode(Image.new("RGB", (16, 16)), "AVIF")
    junk = struct.pack(">I4s", 8, b"junk") * 1_000_000  # a million empty boxes first
    image = Image.open(io.BytesIO(avif))
    assert decoding._av1_planes(image, avif) == 1.5  # 8 bits, 4:2:0
    ftyp = int.from_bytes(avif[:4], "big")  # the first box: the brands
    assert decoding._av1_planes(image, avif[:ftyp] + junk + avif[ftyp:]) == 8  # not found: most


@pytest.mark.parametrize("fmt, kind", [("PNG", "empty"), ("PNG", "inflating"), ("PNG", "exif"),
                                       ("JPEG", "empty"), ("GIF", "empty")])
def test_an_upload_of_more_segments_than_an_image_needs_is_refused_before_pillow_opens_it(
        fmt, kind, monkeypatch):
    base = headers.segments(padded(fmt, 0, kind), MOST)
    each = headers.INFLATED_CHUNK if kind == "inflating" else 1
    most = padded(fmt, (MOST - base) // each, kind)
    assert decoding.decode_image(most).size == (64, 64)
    opened = []
    monkeypatch.setattr(decoding.Image, "open", lambda *args, **kwargs: opened.append(args))
    with pytest.raises(NotAnImage) as refusal:
        decoding.decode_image(padded(fmt, (MOST - base) // each + 1, kind))
    assert refusal.value.reason == "segments" and not opened


def test_the_headers_segments_count_in_the_decoding_time():
    few, more = padded("PNG", 10), padded("PNG", 1010)
    work = [decoding.coded_work(Image.open(io.BytesIO(data)), data)
            for data in (few, more)]
    assert work[1] - work[0] == 1000 * decoding._SEGMENT_WORK + (len(more) - len(few))


def test_the_service_answers_a_file_of_too_many_segments_with_advice(client):
    response = post_image(client, padded("JPEG", 100_000), filename="padded.jpg")
    assert response.status_code == 415
    detail = response.get_json()["detail"]
    assert "far more chunks, markers or entries than an image needs" in detail
    assert "Save it again with an ordinary image editor" in detail


def test_counting_never_fails_on_a_broken_file():
    # it runs before Pillow has said the bytes are an image: cut short or with flipped bits,
    # every format (an AVIF, a WebP and a PNG with EXIF among them) is counted, never raised on
    exif = exif_block(40)
    sources = [data for _, data in mutations(60)] + [
        encode(Image.new("RGB", (16, 16)), fmt, exif=exif) for fmt in ("AVIF", "WEBP", "PNG")]
    rng = np.random.default_rng(0)
    for data in sources:
        for cut in {len(data), *rng.integers(1, len(data), 20)}:
            assert headers.segments(data[:cut], MOST) >= 0
