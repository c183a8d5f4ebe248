"""Upload bytes -> a small upright grey image, in memory bounded before any pixel is decoded.

What decoding costs is known from the header: in memory, width x height x the bytes Pillow keeps
per pixel of the decoded mode, plus what the format's decoder holds beside the image; in time,
the bytes of pixel data it goes through and the coded bytes it reads, each weighed by what it
costs against inflating a byte. `decode_image` refuses an upload over either budget,
decodes JPEGs straight at a reduced scale, turns every other mode into 8-bit grey bands and
reduces those at once, so nothing after it ever touches a full-size copy. Run-length compressed
BMPs are refused: Pillow decodes them in Python, and a 19 kB one took a worker 2.6 s.
"""

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
# The accepted formats' decoders, registered here (in gunicorn's preloading master) by name:
# asked for a format it has not registered, Pillow imports all of its ~45 plugins, in every
# worker (about 3 MB each).
from PIL import (AvifImagePlugin, BmpImagePlugin, GifImagePlugin,  # noqa: F401
                 JpegImagePlugin, PngImagePlugin, TiffImagePlugin, WebPImagePlugin)

from digits.core import headers
from digits.core.errors import DecodingTooCostly, ImageTooLarge, NotAnImage, TooMuchPixelData

# Our limits are checked first and name the image's size; Pillow's own bomb check would not.
Image.MAX_IMAGE_PIXELS = None

ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF", "AVIF")
# A worker decodes one upload at a time, on its own core: dav1d's default of a thread per core
# would contend with the other worker and saves nothing on a digit-sized image.
AvifImagePlugin.DEFAULT_MAX_THREADS = 1
# An uncompressed TIFF is read by libtiff too, not strip by strip in Python: Pillow's own reader
# makes a tile of each strip, and a 9 MB TIFF one pixel wide, a strip a row, took 1.7 s to open
# and 2.3 s more to load, in 450 MB (libtiff: 0.1 s, 100 MB).
TiffImagePlugin.READ_LIBTIFF = True
# The HEIF container's HEVC brands (ISO/IEC 23008-12): what an iPhone camera saves. AVIF shares
# the container (brands avif, avis) and is read; HEVC-coded HEIF is refused with advice.
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
WORK_SIDE = 160  # the grey image handed on is about this large: enough for a digit
# ... and beside it a finer copy about this large, for a line of writing small in the picture
# (a page of lines, a number far off in a photo) to be read at the pixels its digits need
DETAIL_SIDE = 4 * WORK_SIDE
MAX_PIXELS = 40_000_000
MAX_DECODED_BYTES = 64 * 1024 * 1024
# Every byte of a PNG's or TIFF's pixel data is inflated, at about 3.6 ns a byte on one core
# (zlib), and each band made from the pixels at full size (a palette's grey and alpha, a 16-bit
# grey scaled) is another pass, at about 1 ns a byte: its bytes count half (see pixel_data). At
# 20 MiB the slowest accepted upload costs a worker 62-93 ms (bench/worst.py, the largest and
# the densest files; 121-124 ms before bands were counted, 182 ms before this limit). A 1080p
# screenshot (RGB, 6 MB) or a 1440p one (RGBA, 15 MB and its bands 18 MB) fits; a 4K one (RGB,
# 25 MB) or a 300-dpi A4 colour scan as a PNG (26 MB) does not. As grey (9 MB) or as a JPEG,
# that scan does.
MAX_PIXEL_DATA = 20 * 1024 * 1024
# What decoding one coded byte costs, in bytes of inflated pixel data (about 4 ns each on one
# core with a fresh heap, as a worker has): a file's entropy-coded data is read byte by byte,
# and the densest files (grain at the highest quality, as bench/worst.py's densest candidates)
# take an AV1 decoder (dav1d) 64-67 ns a byte, VP8 (lossy WebP) 47-56, a
# progressive JPEG's scans 19-25, GIF's LZW 12-14 (each code of grain gives a pixel or two),
# VP8L (lossless WebP) 8-11, a JPEG (in a TIFF too) 5-8, zlib and TIFF's LZW 1-4.
# Uncounted, a 7.7 MB AVIF of 1831x1831 took a worker 566 ms, a 4.7 MB WebP 310 ms and a 10 MB
# progressive JPEG 261 ms. A phone photo's JPEG (3-5 MB baseline) counts 6-10 MB; an AVIF or
# WebP photo of 2 MP (under 0.5 MB) 8-17 MB.
_CODED_WEIGHT = {"AVIF": 18, "WEBP": 15, "WEBP lossless": 3, "JPEG": 2, "JPEG progressive": 6,
                 "MPO": 2, "MPO progressive": 6, "TIFF jpeg": 2, "GIF": 3,
                 "BMP": 0, "TIFF raw": 0}  # uncompressed, a file's bytes are its pixels
# The most chunks, markers, blocks and directory entries an upload's headers may hold that
# Pillow parses in Python (`headers.segments`), each costing it 1-6 µs: far more than an image
# needs (a 10 MB PNG in libpng's 8 kB chunks has 1,300; a camera's EXIF 10-80 entries), and
# counted in the time too, 1 kB of pixel data each.
MAX_SEGMENTS = 4096
_SEGMENT_WORK = 1024
# The scans of a progressive JPEG its coefficients already pay for: libjpeg's progressive script
# writes 10 for colour (6 for grey), mozjpeg's 9-12
_PLAIN_SCANS = 10
# What libtiff's reading of each strip or tile costs beside its bytes, in bytes of pixel data:
# about 95 ns (a million strips of a pixel each took 101 ms).
_TIFF_PIECE_WORK = 32
# Bytes Pillow keeps per pixel of a decoded mode; every mode not listed keeps 4.
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# Bytes per pixel of a mode's pixel data as a file stores it (a 1-bit image is unpacked to a
# byte a pixel, and that is what its reading costs); every mode not listed has 4.
_STORED_BYTES = {"1": 1, "L": 1, "P": 1, "LA": 2, "La": 2, "PA": 2, "I;16": 2, "I;16L": 2,
                 "I;16B": 2, "I;16N": 2, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3}
# Bytes per pixel of the 8-bit grey (and alpha) bands made from a mode before reducing (CMYK
# reaches grey through RGB; RGB is reduced first and made grey after; a palette's, which
# depend on its transparency, are reckoned in _band_bytes).
_GREY_BYTES = {"L": 0, "RGB": 0, "LA": 2, "La": 2, "PA": 2, "RGBA": 2, "RGBa": 2, "CMYK": 5,
               "I;16": 4, "I;16L": 4, "I;16B": 4, "I;16N": 4, "I": 0, "F": 0}
# Bytes per pixel a decoder holds beside the image, measured with bench/reckoning.py (one
# decode's peak RSS, each in a fresh process): libwebp decodes into buffers of its own, 12 bytes
# a pixel, lossless or lossy (16.0 in all with Pillow's RGB(A); reckoned at 10, the largest WebP
# accepted took 77 MB of the 67 allowed); libavif keeps dav1d's YUV(A) planes (`_av1_planes`),
# converts them into an RGB(A) buffer and Pillow copies that to bytes: 6 beside the planes (16.5
# in all measured for a 12-bit 4:4:4 image with alpha, 9.1 for the usual 8-bit 4:2:0 one).
_DECODER_BYTES = {"WEBP": 12, "AVIF": 6}
# The most bytes per pixel an AV1 image's planes take: 12 bits (2 bytes a sample), 4:4:4, and
# alpha. An AVIF's header says which it has (`_av1_planes`); when it does not, this.
_AV1_MOST_PLANE_BYTES = 8
_ORIENTATION = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                8: Image.Transpose.ROTATE_90}
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Limits:
    """What one upload may take: pixels as the header declares them, bytes of memory while it
    is decoded (`decoding_cost`) and bytes of pixel data decoded (`pixel_data`)."""

    pixels: int = MAX_PIXELS
    decoded_bytes: int = MAX_DECODED_BYTES
    pixel_data: int = MAX_PIXEL_DATA


@dataclass(frozen=True)
class Decoded:
    """An upload reduced for work: 8-bit grey (and alpha, or None), upright as a person sees
    it, and how many upload pixels one work pixel spans along x and y."""

    grey: Image.Image
    alpha: Image.Image | None
    scale: tuple
    size: tuple  # the upload's upright width and height
    detail: Image.Image | None = None  # the same, about DETAIL_SIDE large (grey when smaller)
    detail_alpha: Image.Image | None = None


def decoding_cost(image, data, undrafted_size=None):
    """Bytes of memory decoding `image` (opened from the upload bytes `data`, not loaded) takes
    at its peak: the decoded pixels, the buffers its decoder fills beside them, and the grey
    bands made from them.

    `undrafted_size` is a drafted JPEG's size before the draft: a progressive one keeps its
    coefficients at that size.
    """
    width, height = image.size
    pixels = width * height
    cost = pixels * (_MODE_BYTES.get(image.mode, 4) + _band_bytes(image))
    cost += pixels * _DECODER_BYTES.get(image.format, 0)
    if image.format == "AVIF":
        cost += math.ceil(pixels * _av1_planes(image, data))
    if image.format == "TIFF":  # libtiff reads a whole strip or tile into a buffer first
        cost += _tiff_buffer(image)
    elif image.format in ("JPEG", "MPO") and image.info.get("progressive"):
        cost += _jpeg_coefficients(image, undrafted_size or image.size)
    return cost


def pixel_data(image, data, undrafted_size=None):
    """Bytes of pixel data decoding `image` (opened from the upload bytes `data`, not loaded)
    goes through, which is what its time follows: width x height x the bytes a pixel is stored
    in, plus half the bytes a pixel of the bands made from it at full size (`_band_bytes`; a
    pass over a band's byte costs about a third of inflating a stored one, and a half errs on
    the safe side) and of an AV1 decoder's planes (`_av1_planes`; uncounted, the largest AVIF
    the memory budget let through, 3.35 MP of 12 bits, 4:4:4 and alpha, blank, took a worker
    78-107 ms). A drafted JPEG decodes at its reduced size, but a progressive one goes through
    its coefficients at `undrafted_size`."""
    if image.format in ("JPEG", "MPO") and image.info.get("progressive"):
        coefficients = _jpeg_coefficients(image, undrafted_size or image.size) // 2
        # each scan walks its coefficients again, a few bytes if it codes nothing (an end-of-band
        # run spans 32,767 blocks): a quarter of a byte each beyond an encoder's 10 scans
        # (uncounted, a 38 kB 2000x2000 JPEG of 1,006 scans took a worker 2.5 s, 164 kB 26 s)
        scans = data.count(b"\xff\xda")  # 0xFF is stuffed in coded data: every one a scan
        return coefficients + coefficients * max(0, scans - _PLAIN_SCANS) // 4
    width, height = image.size
    passes = _band_bytes(image) + (_av1_planes(image, data) if image.format == "AVIF" else 0)
    if image.format == "PNG" and image.info.get("interlace"):
        # Adam7's seven passes are put together pixel by pixel, about 3 ns each: a byte more
        # (uncounted, the largest interlaced grey PNG took a worker 128 ms to decode, 68 plain)
        passes += 2
    return math.ceil(width * height * (2 * _stored_bytes(image) + passes) / 2)


def coded_work(image, data, segments=None):
    """What reading the coded bytes of `data` (the upload `image`, opened, not loaded, was
    opened from) costs, in bytes of pixel data: each byte weighed by its coding's cost
    (`_CODED_WEIGHT`; 1 for the inflated and LZW codings), a TIFF's strips or tiles, and the
    `segments` of its headers Pillow parses in Python (counted here when None)."""
    coding = image.format
    if coding in ("JPEG", "MPO") and image.info.get("progressive"):
        coding += " progressive"
    elif coding == "WEBP" and not _is_lossy_webp(data):
        coding += " lossless"
    elif coding == "TIFF" and image.info.get("compression") in ("jpeg", "raw"):
        coding += " " + image.info["compression"]
    if segments is None:
        segments = headers.segments(data, MAX_SEGMENTS)
    work = len(data) * _CODED_WEIGHT.get(coding, 1) + segments * _SEGMENT_WORK
    if image.format == "TIFF":
        work += _tiff_pieces(image) * _TIFF_PIECE_WORK
    return work


def draft_for_work(image):
    """Have a JPEG (opened, not loaded) decode only its luminance, at the smallest scale that
    still gives about WORK_SIDE pixels a side; other formats are left as they are. Returns the
    size before the draft, which `decoding_cost` needs."""
    size = image.size
    if image.format in ("JPEG", "MPO"):  # MPO: a phone's multi-picture JPEG
        image.draft("L", _reduced_size(size, DETAIL_SIDE))
    return size


def decoding_costs(image, data, segments=None):
    """Draft `image` (opened from the upload bytes `data`, not loaded) for work and reckon what
    decoding it then takes: bytes of memory (`decoding_cost`) and the time, in bytes of pixel
    data (`pixel_data` and `coded_work`, which counts the headers' `segments` when None)."""
    undrafted = draft_for_work(image)
    return (decoding_cost(image, data, undrafted),
            pixel_data(image, data, undrafted) + coded_work(image, data, segments))


def decode_image(data, limits=Limits()):
    """Decode upload bytes (first frame) into a `Decoded` reduced to about WORK_SIDE a side.

    Raises NotAnImage unless the content is one of ACCEPTED_FORMATS and decodes, ImageTooLarge
    when the header declares more pixels than `limits` allow, and its kinds DecodingTooCostly
    when decoding would take more memory and TooMuchPixelData when it would go through more
    pixel data, before any pixel data is decoded.
    """
    if not data:
        raise NotAnImage("empty")
    segments = headers.segments(data, MAX_SEGMENTS)
    if segments > MAX_SEGMENTS:  # refused before Pillow walks them
        raise NotAnImage("segments")
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Exception as error:  # Pillow signals unreadable data with many exception types
        raise NotAnImage("heic" if _is_hevc_heif(data) else "unreadable") from error
    if image.format == "BMP" and image.tile and image.tile[0][0] == "bmp_rle":
        raise NotAnImage("bmp-rle")
    width, height = image.size
    if width * height > limits.pixels:
        raise ImageTooLarge(width, height, limits.pixels)
    try:
        cost, data_bytes = decoding_costs(image, data, segments)  # a 12 MP photo: cheaply
        if cost > limits.decoded_bytes:
            raise DecodingTooCostly(width, height, image.mode, image.format, cost,
                                    limits.decoded_bytes)
        if data_bytes > limits.pixel_data:
            raise TooMuchPixelData(width, height, image.mode, image.format, data_bytes,
                                   limits.pixel_data)
        image.load()
        # read after decoding: a PNG's EXIF may follow its pixels, and Pillow would decode them
        orientation = image.getexif().get(_EXIF_ORIENTATION)
        grey, alpha = _grey_bands(image)
    except ImageTooLarge:
        raise
    except Exception as error:  # truncated or corrupt pixel data fails only here, while decoding
        raise NotAnImage("undecodable") from error
    # the work copy is reduced from the finer one: one pass over the full-size pixels, not two,
    # and both copies scaled to 8 bits alike
    finer = max(1, round(max(grey.size) / DETAIL_SIDE))
    detail, detail_alpha = (_reduce(band, finer) for band in (grey, alpha))
    factor = max(1, round(max(detail.size) / WORK_SIDE))
    grey, alpha = (_reduce(band, factor) for band in (detail, detail_alpha))
    if orientation in _ORIENTATION:
        grey, alpha, detail, detail_alpha = (
            band and band.transpose(_ORIENTATION[orientation])
            for band in (grey, alpha, detail, detail_alpha))
        if orientation >= 5:  # the tag turns the picture a quarter: width and height swap
            width, height = height, width
    return Decoded(grey, alpha, (width / grey.size[0], height / grey.size[1]), (width, height),
                   detail, detail_alpha)


def _is_hevc_heif(data):
    """Whether `data` starts as a HEIF file with an HEVC brand (major, or compatible after a
    generic `mif1`/`msf1`)."""
    if data[4:8] != b"ftyp":
        return False
    box_end = min(int.from_bytes(data[:4], "big"), len(data), 256)
    brands = {data[8:12]} | {data[i:i + 4] for i in range(16, box_end - 3, 4)}
    return bool(brands & _HEVC_BRANDS) and not brands & {b"avif", b"avis"}


def _av1_planes(image, data):
    """Bytes per pixel of the planes an AVIF's (`image`, opened from `data`) AV1 decoder
    writes, as its header's AV1 configuration boxes (`av1C`, one per coded image) say: 1 byte
    a sample at 8 bits and 2 above; the colour image's luma and two chroma planes, subsampled
    4:2:0 to a quarter each, 4:2:2 to a half; an alpha plane when `image` has alpha. Without
    those boxes, the most (_AV1_MOST_PLANE_BYTES)."""
    configurations = list(_av1_configurations(data))
    if not configurations:
        return _AV1_MOST_PLANE_BYTES
    planes = [(2 if flags & 0x40 else 1) *  # high_bitdepth
              (1 if flags & 0x10 else  # monochrome
               1 + 2 / ((1 + (flags >> 3 & 1)) * (1 + (flags >> 2 & 1))))  # subsampled x, y
              for flags in configurations]
    colour = max(planes)
    alpha = max(2 if flags & 0x40 else 1 for flags in configurations)
    return colour + (alpha if "A" in image.mode else 0)


def _av1_configurations(data):
    """The flags byte (high bit depth, twelve bits, monochrome, chroma subsampling along x and
    y) of every `av1C` box of an AVIF: its item properties, in ISO BMFF's meta > iprp > ipco.
    Each walk stops after MAX_SEGMENTS boxes (a file of a million empty boxes is no AVIF)."""
    properties = headers.meta_boxes(data, MAX_SEGMENTS).get(b"iprp")
    for kind, start, end in headers.boxes(data, *properties, MAX_SEGMENTS) if properties else ():
        if kind == b"ipco":
            for inner, content, box_end in headers.boxes(data, start, end, MAX_SEGMENTS):
                if inner == b"av1C" and box_end >= content + 4:
                    yield data[content + 2]


def _is_lossy_webp(data):
    """Whether a WebP's (first) image is VP8-coded, lossy, rather than VP8L, lossless, as its
    RIFF chunks say (an extended file's VP8X, ICCP, ANIM and ALPH chunks come first; an
    animation frame's chunks follow its 16-byte header). When none says within MAX_SEGMENTS
    chunks, the dearer: lossy."""
    for kind, start, end in headers.riff_chunks(data, 12, len(data), MAX_SEGMENTS):
        frame = (headers.riff_chunks(data, start + 16, end, MAX_SEGMENTS) if kind == b"ANMF"
                 else [(kind, start, end)])
        for inner, _, _ in frame:
            if inner in (b"VP8 ", b"VP8L"):
                return inner == b"VP8 "
    return True


def _stored_bytes(image):
    """Bytes a pixel of `image`'s pixel data takes as its file stores it: by its mode, but by
    the samples the file holds when they are 16 bits Pillow reads into an 8-bit mode (a 48-bit
    RGB PNG or TIFF opens as RGB, its data 6 bytes a pixel: reckoned at 3, the largest took a
    worker 111 ms)."""
    args = image.tile[0].args if image.tile else None
    rawmode = args if isinstance(args, str) else args[0] if args and isinstance(args[0], str) \
        else ""
    bands, _, packing = rawmode.partition(";")
    if packing.startswith("16") and not image.mode.startswith("I"):
        return 2 * len(bands)  # a band a letter: LA, RGB, RGBA
    return _STORED_BYTES.get(image.mode, 4)


def _band_bytes(image):
    """Bytes per pixel of the bands `_grey_bands` makes from `image` at full size: a palette's
    grey, and its alpha when it has transparency, are looked up from its indices."""
    if image.mode == "P":
        return 1 if image.info.get("transparency") is None else 2
    return _GREY_BYTES.get(image.mode, 1)


def _grey_bands(image):
    """Grey and alpha (None when opaque) at full size, made the cheapest way per mode, each in
    a mode `_reduce` makes 8-bit grey of once reduced (RGB, 32-bit) or already 8-bit grey."""
    mode = image.mode
    if mode == "P":
        return _palette_bands(image)
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        return image.convert("L") if mode != "La" else image.getchannel(0), image.getchannel("A")
    if mode.startswith("I;16"):
        image = image.convert("I")
        mode = "I"
    if mode in ("I", "F", "RGB"):
        return image, None  # reduced first, then scaled or made grey (in _reduce): one pass less
    return image.convert("L") if mode != "L" else image, None


def _reduce(band, factor):
    """The band reduced `factor` times by box averaging, as 8-bit grey: RGB made grey, 16/32-bit
    values scaled to 0..255."""
    if band is None:
        return None
    if factor > 1:
        band = band.reduce(factor)
    if band.mode == "RGB":
        return band.convert("L")
    if band.mode in ("I", "F"):
        values = np.asarray(band, dtype=np.float32)
        peak = values.max(initial=0)
        full_scale = 65535.0 if peak > 255 else 255.0 if peak > 1 else 1.0
        band = Image.fromarray(np.clip(values * (255 / full_scale), 0, 255).astype(np.uint8))
    return band


def _palette_bands(image):
    """The grey band of a palette image and its alpha band (None without transparency: one
    index, or an alpha per index), each a lookup of the indices through a table of 256: one
    pass over the pixels each, where Pillow's conversion to grey weighs every pixel's colour."""
    palette = Image.new("P", (256, 1))
    palette.putdata(range(256))
    palette.putpalette(image.getpalette() or [])
    grey = image.point(list(palette.convert("L").tobytes()), "L")
    transparency = image.info.get("transparency")
    if transparency is None:
        return grey, None
    if isinstance(transparency, int):
        alphas = [0 if index == transparency else 255 for index in range(256)]
    else:
        alphas = list(transparency[:256]) + [255] * (256 - len(transparency[:256]))
    return grey, image.point(alphas, "L")


def _reduced_size(size, side):
    scale = side / max(size)
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


def _jpeg_coefficients(image, size):
    """Bytes of the DCT coefficients libjpeg keeps for a progressive JPEG of `size`: every
    component at its full sampled size, 2 bytes each, whatever the scale it is decoded at."""
    width, height = size
    layers = getattr(image, "layer", None) or [(0, 1, 1, 0)] * len(image.getbands())
    most_h = max(layer[1] for layer in layers)
    most_v = max(layer[2] for layer in layers)
    return sum(math.ceil(width * h / most_h) * math.ceil(height * v / most_v) * 2
               for _, h, v, _ in layers)


def _tiff_pieces(image):
    """How many strips or tiles a TIFF's (first) image is stored in, from its header: each
    plane's, when its samples are stored plane by plane."""
    tags = image.tag_v2
    width, height = image.size
    piece_width, piece_height = _tiff_piece(image)
    pieces = -(-width // piece_width) * -(-height // piece_height)
    planes = int(tags.get(277, 1) or 1) if tags.get(284) == 2 else 1  # PlanarConfiguration
    return pieces * planes


def _tiff_buffer(image):
    """Bytes of the strip or tile libtiff decodes into before Pillow copies it out."""
    piece_width, piece_height = _tiff_piece(image)
    pixel_bytes = max(_MODE_BYTES.get(image.mode, 4), _stored_bytes(image))  # 48-bit RGB: 6
    return piece_width * piece_height * pixel_bytes


def _tiff_piece(image):
    """Width and height of a TIFF's tiles, or of its strips: the image's width and its rows a
    strip (RowsPerStrip, at most the image's height)."""
    tags = image.tag_v2
    width, height = image.size
    if 322 in tags and 323 in tags:  # TileWidth, TileLength
        return max(1, int(tags[322])), max(1, int(tags[323]))
    return width, max(1, min(int(tags.get(278, height) or height), height))

