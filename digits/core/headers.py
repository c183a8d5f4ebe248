"""How much of an upload's structure Pillow would walk in Python, counted from its bytes before
Pillow opens it: the chunks of a PNG, the markers (and stray bytes) of a JPEG before its scan,
the blocks of a GIF before its first image, the entries of a TIFF's first directory and of an
EXIF block's first directory (which Pillow reads for the orientation). Pillow spends 1-6 µs on
each in Python, and a 10 MB file can hold millions: a PNG of 830,000 empty chunks took a worker
2.9 s to open, a JPEG of 2.5 million empty APP1 segments 5.9 s (and 150 MB). A PNG chunk Pillow
inflates (a zTXt, iTXt or iCCP, up to 1 MB each, PngImagePlugin.MAX_TEXT_CHUNK) counts as
INFLATED_CHUNK: 2,000 iCCP chunks of 1 kB, each inflating to 1 MB, took 4.7 s. Each walk stops
once it has counted more than `most`, so counting costs a few milliseconds at worst.
"""

import struct

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8"
_EXIF = b"Exif\x00\x00"
# what a PNG chunk Pillow inflates counts: inflating 1 MB takes it about 2.3 ms, some 500 times
# a chunk's walk (a file has one iCCP and a few text chunks)
INFLATED_CHUNK = 512
_INFLATED = {b"zTXt", b"iTXt", b"iCCP"}
# JPEG markers without a length: TEM, RST0-7, SOI, EOI
_STANDALONE = {0x01, *range(0xD0, 0xDA)}


def segments(data, most):
    """How many chunks, markers, blocks and directory entries Pillow would parse in Python to
    open `data` and read its orientation; counting stops above `most`. 0 for a format whose
    headers a C library reads (AVIF's; WebP's are walked here to find its EXIF) or that has
    none to speak of (BMP)."""
    if data.startswith(_PNG):
        return _png(data, most)
    if data.startswith(_JPEG):
        return _jpeg(data, most)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data, most)
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return _directory_entries(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data, most)
    return 0


def _png(data, most):
    """Chunks up to IEND (Pillow reads those after the pixels too), those it inflates as
    INFLATED_CHUNK each, and the entries of an eXIf chunk's first directory."""
    count, position = 0, len(_PNG)
    while position + 8 <= len(data) and count <= most:
        length, kind = struct.unpack_from(">I4s", data, position)
        count += INFLATED_CHUNK if kind in _INFLATED else 1
        if kind == b"eXIf":
            count += _directory_entries(data[position + 8:position + 8 + length])
        if kind == b"IEND":
            break
        position += 12 + length
    return count


def _jpeg(data, most):
    """Markers up to the start of the scan, each stray or padding byte between them (Pillow
    reads those one at a time), and the entries of an EXIF APP1 segment's first directory."""
    count, position = 0, len(_JPEG)
    while position + 1 < len(data) and count <= most:
        count += 1
        if data[position] != 0xFF or data[position + 1] in (0x00, 0xFF):
            position += 1  # a stray byte, or padding before a marker
            continue
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: libjpeg reads the rest
            break
        if marker in _STANDALONE:
            position += 2
            continue
        if position + 4 > len(data):
            break
        length = struct.unpack_from(">H", data, position + 2)[0]
        if marker == 0xE1 and data[position + 4:position + 10] == _EXIF:
            count += _directory_entries(data[position + 10:position + 2 + length])
        position += 2 + length
    return count


def _gif(data, most):
    """Blocks, and each extension's sub-blocks, up to the first image's descriptor."""
    flags = data[10] if len(data) > 10 else 0
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # the global colour table
    count = 0
    while position < len(data) and count <= most and data[position] == 0x21:  # an extension
        count += 1
        position += 2  # the introducer and the label
        while position < len(data) and data[position] and count <= most:
            count += 1
            position += 1 + data[position]
        position += 1  # the terminating empty sub-block
    return count


def _webp(data, most):
    """Its chunks (libwebp walks them in C, but finding the EXIF walks them here), and the
    entries of an EXIF chunk's first directory."""
    count, position = 0, 12
    while position + 8 <= len(data) and count <= most:
        kind, size = struct.unpack_from("<4sI", data, position)
        count += 1
        if kind == b"EXIF":
            count += _directory_entries(data[position + 8:position + 8 + size])
        position += 8 + size + size % 2
    return count


def _directory_entries(tiff):
    """How many entries the first directory of a TIFF structure (a TIFF file, or an EXIF
    block, with or without its "Exif" prefix) declares; 0 when it does not parse."""
    if tiff.startswith(_EXIF):
        tiff = tiff[len(_EXIF):]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return 0
    if struct.unpack_from(order + "H", tiff, 2)[0] == 43:  # BigTIFF: 64-bit offsets and counts
        if len(tiff) < 16:
            return 0
        offset = struct.unpack_from(order + "Q", tiff, 8)[0]
        return struct.unpack_from(order + "Q", tiff, offset)[0] if offset + 8 <= len(tiff) else 0
    offset = struct.unpack_from(order + "I", tiff, 4)[0]
    return struct.unpack_from(order + "H", tiff, offset)[0] if offset + 2 <= len(tiff) else 0
