"""Hostile and broken uploads, made the same way every time: files cut short or with flipped
bits in every accepted format, images of degenerate shapes, tiny files whose headers
declare huge images, run-length compressed BMPs that Pillow would decode slowly, and files
written by hand in what Pillow does not write (16-bit colour and interlaced PNGs, TIFFs of many
strips). The hostile-input tests and `bench/answers.py` send the same broken files, shapes and
headers; the decoding tests and `bench/worst.py` the same BMPs and hand-written files."""

import io
import random
import struct
import zlib

import numpy as np
from PIL import Image

FORMATS = ("PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP", "AVIF")


def encode(image, fmt="PNG", **params):
    """Bytes of a Pillow image (or a uint8 array) saved in `fmt`."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def valid_files():
    """A small noise image in every accepted format, to damage: {format: bytes}."""
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 48), dtype=np.uint8))
    return {fmt: encode(noise.convert("RGB") if fmt == "JPEG" else noise, fmt)
            for fmt in FORMATS}


def mutations(count=150, seed=0):
    """Broken files, `count` per format: truncated or bit-flipped copies of valid ones, as
    (format, bytes)."""
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


def degenerate_images():
    """Images with no room for a digit: {name: Pillow image}."""
    return {"1x1": Image.new("L", (1, 1), 0), "1x5000": Image.new("L", (1, 5000), 255),
            "5000x1": Image.new("L", (5000, 1), 0),
            "2x2-checker": Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8))}


def declaring(fmt, width, height):
    """A tiny GIF, JPEG or TIFF file whose header declares width x height pixels."""
    if fmt == "GIF":
        return (b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00\x2c"
                + struct.pack("<HHHH", 0, 0, width, height) + b"\x00\x02\x02\x44\x01\x00\x3b")
    if fmt == "JPEG":
        data = bytearray(encode(Image.new("RGB", (16, 16), "white"), "JPEG"))
        frame = data.find(b"\xff\xc0")
        data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
        return bytes(data)
    data = bytearray(encode(Image.new("L", (16, 16), 255), "TIFF"))
    directory = struct.unpack("<I", data[4:8])[0]
    for entry in range(struct.unpack("<H", data[directory : directory + 2])[0]):
        at = directory + 2 + 12 * entry
        tag, kind = struct.unpack("<HH", data[at : at + 4])
        if tag in (256, 257):
            value = width if tag == 256 else height
            data[at + 8 : at + (10 if kind == 3 else 12)] = struct.pack(
                "<H" if kind == 3 else "<I", value)
    return bytes(data)


def run_length_bmp(width, height, bits=8):
    """A run-length compressed BMP (RLE8, or RLE4 with `bits=4`) of width x height whose every
    row is one dark pixel and an end of line: 4 bytes a row, yet Pillow's decoder (Python) pads
    each of the row's other pixels one at a time."""
    colours = 1 << bits
    palette = b"".join(bytes((v, v, v, 0)) for v in range(0, 256, 256 // colours))
    data = b"\x01\x00\x00\x00" * height + b"\x00\x01"  # a run of one, end of line; end
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bits, 1 if bits == 8 else 2,
                       len(data), 2835, 2835, colours, 0)
    offset = 14 + len(info) + len(palette)
    return (struct.pack("<2sIHHI", b"BM", offset + len(data), 0, 0, offset) + info + palette
            + data)


def black_png(width, height, channels=1, depth=8, interlaced=False):
    """A black PNG written by hand in what Pillow does not write: `depth` 16 in colour (it
    opens such a PNG in an 8-bit mode), Adam7 interlacing. `channels`: 1 grey, 2 grey and
    alpha, 3 RGB, 4 RGBA."""
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, int(interlaced))
    pixel_bytes = channels * depth // 8
    # Adam7's seven passes (x, y offsets and steps), each a reduced image of its own rows
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
              (1, 0, 2, 2), (0, 1, 1, 2)] if interlaced else [(0, 0, 1, 1)]
    rows = b"".join((b"\x00" + bytes(-(-(width - x) // dx) * pixel_bytes)) * -(-(height - y) // dy)
                    for x, y, dx, dy in passes if width > x and height > y)  # filter 0, samples
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def png_chunk(kind, payload):
    """A PNG chunk of `kind` (4 bytes) holding `payload`: its length, type, data and CRC."""
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


def black_tiff(width, height, channels=1, depth=8, rows_per_strip=None):
    """A black, uncompressed, little-endian TIFF written by hand: `channels` samples a pixel
    (1 grey, 3 RGB, 4 RGBA) of `depth` bits (16 in colour: Pillow opens it as 8-bit RGB(A)), in
    strips of `rows_per_strip` rows (one strip when None; 1 makes a strip of every row)."""
    rows = min(rows_per_strip or height, height)
    strips = -(-height // rows)
    row_bytes = width * channels * depth // 8
    sizes = [rows * row_bytes] * (strips - 1) + [(height - rows * (strips - 1)) * row_bytes]
    entries = {256: (4, 1, width), 257: (4, 1, height), 259: (3, 1, 1),
               262: (3, 1, 2 if channels >= 3 else 1), 277: (3, 1, channels), 278: (4, 1, rows),
               284: (3, 1, 1)}
    if channels == 4:
        entries[338] = (3, 1, 2)  # ExtraSamples: unassociated alpha
    ifd_end = 8 + 2 + 12 * (len(entries) + 3) + 4  # and the three entries below
    # after the directory: BitsPerSample's values, then (more than one strip) the strips'
    # offsets and sizes, then the pixels
    tables = ifd_end + 2 * channels
    start = tables + (8 * strips if strips > 1 else 0)
    offsets = [start + index * sizes[0] for index in range(strips)]  # the last may be shorter
    entries.update({258: (3, channels, depth if channels == 1 else ifd_end),
                    273: (4, strips, offsets[0] if strips == 1 else tables),
                    279: (4, strips, sizes[0] if strips == 1 else tables + 4 * strips)})
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, count, value)
        for tag, (kind, count, value) in sorted(entries.items())) + struct.pack("<I", 0)
    listed = struct.pack(f"<{strips}I", *offsets) + struct.pack(f"<{strips}I", *sizes)
    depths = struct.pack(f"<{channels}H", *[depth] * channels)
    return (b"II*\x00" + struct.pack("<I", 8) + ifd + depths + (listed if strips > 1 else b"")
            + bytes(sum(sizes)))


def padded(fmt, count, kind="empty"):
    """A small image whose headers hold `count` segments beside it, each of which Pillow parses
    in Python: for "PNG", empty ancillary chunks (`kind` "empty"), iCCP chunks of 1 kB that
    inflate to 1 MB each ("inflating"), or an eXIf chunk of `count` entries ("exif"); for
    "JPEG", empty comment segments; for "GIF", one comment extension of `count` one-byte
    sub-blocks."""
    image = Image.new("L", (64, 64), 255)
    data = encode(image, fmt)
    if fmt == "JPEG":
        return data[:2] + b"\xff\xfe\x00\x02" * count + data[2:]
    if fmt == "GIF":
        start = data.index(b",", 13)  # the image descriptor
        return data[:start] + b"\x21\xfe" + b"\x01a" * count + b"\x00" + data[start:]
    payload = {"empty": lambda: b"",
               "inflating": lambda: b"p\x00\x00" + zlib.compress(bytes(1 << 20), 9),
               "exif": lambda: exif_block(count)}[kind]()
    name = {"empty": b"abCd", "inflating": b"iCCP", "exif": b"eXIf"}[kind]
    chunk = png_chunk(name, payload)
    header_end = 8 + 25  # the signature, then IHDR
    return data[:header_end] + chunk * (1 if kind == "exif" else count) + data[header_end:]


def exif_block(entries):
    """An EXIF block (a little-endian TIFF structure) whose first directory holds `entries`
    entries, each an ExifVersion."""
    return b"II*\x00" + struct.pack("<IH", 8, entries) + struct.pack(
        "<HHII", 0x9000, 7, 4, 0) * entries + bytes(4)


def rescanned_jpeg(side=2000, copies=1000):
    """A blank progressive grey JPEG of `side` x `side` whose last scan (an AC refinement that
    codes nothing, 14 bytes: an end-of-band run spans the image) is repeated `copies` times more:
    libjpeg walks every block again for each."""
    data = encode(Image.new("L", (side, side), 255), "JPEG", quality=90, progressive=True)
    last, end = data.rindex(b"\xff\xda"), data.rindex(b"\xff\xd9")
    return data[:end] + data[last:end] * copies + data[end:]
