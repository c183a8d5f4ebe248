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
    open `data` and read its orientation; counting stops above `most`. Of an AVIF or a WebP,
    whose headers a C library reads, only its EXIF's entries (and a WebP's chunks, walked here
    to find it); 0 for a BMP."""
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
    if data[4:8] == b"ftyp":
        return _avif(data, most)
    return 0


def boxes(data, start, end, most):
    """The ISO BMFF boxes (an AVIF's) one after another from `start` to `end`, at most `most`
    of them: (type, where its content starts, where it ends) each."""
    for _ in range(most):
        if start + 8 > end:
            return
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1 and start + 16 <= end:  # a 64-bit size follows the type
            size, header = struct.unpack_from(">Q", data, start + 8)[0], 16
        elif size == 0:  # to the end of its container
            size = end - start
        if size < header or start + size > end:
            return
        yield kind, start + header, start + size
        start += size


def meta_boxes(data, most):
    """{type: (content start, end)} of the boxes in an AVIF's meta box (a full box: its version
    and flags come first); empty without one."""
    for kind, start, end in boxes(data, 0, len(data), most):
        if kind == b"meta":
            return {inner: (content, box_end)
                    for inner, content, box_end in boxes(data, start + 4, end, most)}
    return {}


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
    count = 0
    for kind, start, end in riff_chunks(data, 12, len(data), most + 1):
        count += 1
        if kind == b"EXIF":
            count += _directory_entries(data[start:end])
    return count


def riff_chunks(data, start, end, most):
    """The RIFF chunks (a WebP's) one after another from `start` to `end`, at most `most` of
    them: (type, where its content starts, where it ends) each."""
    for _ in range(most):
        if start + 8 > end:
            return
        kind, size = struct.unpack_from("<4sI", data, start)
        yield kind, start + 8, start + 8 + size
        start += 8 + size + size % 2  # padded to an even length


def _avif(data, most):
    """The entries of the first directory of its Exif item, which Pillow reads when it opens
    the file (libavif walks its boxes in C): found through the item information (`iinf`) and
    the item locations (`iloc`) of its meta box."""
    inside = meta_boxes(data, most)
    if b"iinf" not in inside or b"iloc" not in inside:
        return 0
    exif = _exif_items(data, *inside[b"iinf"], most)
    for item, method, offset, length in _item_locations(data, *inside[b"iloc"], most):
        if item in exif:
            if method == 1:  # within the meta box's own data
                offset += inside.get(b"idat", (0, 0))[0]
            payload = data[offset:offset + length]
            skip = int.from_bytes(payload[:4], "big")  # to the TIFF header
            return _directory_entries(payload[4 + skip:]) if len(payload) >= 4 else 0
    return 0


def _exif_items(data, start, end, most):
    """The ids of the items an `iinf` box (its content from `start` to `end`) says are Exif."""
    items = set()
    if end - start < 6:
        return items
    entries = start + 4 + (2 if data[start] == 0 else 4)  # version, flags, entry count
    for kind, content, box_end in boxes(data, entries, end, most):
        version = data[content] if content < box_end else 0
        if kind == b"infe" and version >= 2:  # version, flags; id, protection index, type
            id_size = 2 if version == 2 else 4
            item = int.from_bytes(data[content + 4:content + 4 + id_size], "big")
            if data[content + 6 + id_size:content + 10 + id_size] == b"Exif":
                items.add(item)
    return items


def _item_locations(data, start, end, most):
    """(item id, construction method, offset, length) of each item's first extent, from an
    `iloc` box's content (`start` to `end`), at most `most` items and extents in all."""
    position = start

    def read(size):
        nonlocal position
        value = int.from_bytes(data[position:position + size], "big") if size else 0
        position += size
        return value

    version = read(1)
    read(3)  # flags
    sizes = read(2)  # offset, length, base offset and index sizes: four bits each
    offset_size, length_size, base_size = sizes >> 12, sizes >> 8 & 15, sizes >> 4 & 15
    index_size = sizes & 15 if version in (1, 2) else 0
    wide = 4 if version == 2 else 2
    walked = 0
    for _ in range(min(read(wide), most)):
        item = read(wide)
        method = read(2) & 15 if version in (1, 2) else 0
        read(2)  # data reference index
        base = read(base_size)
        extents = [(read(index_size), read(offset_size), read(length_size))
                   for _ in range(min(read(2), most - walked))]
        walked += len(extents)
        if position > end or walked >= most:
            return
        if extents:
            yield item, method, base + extents[0][1], extents[0][2]


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
