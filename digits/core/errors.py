"""What the recognition core refuses, as exceptions that carry the facts: what was found and
which limit it passed. `str(error)` states them in a sentence; what a person should do about
it, and how that reaches them, is the caller's to say (the service maps each class to a
problem document in `digits.service.problems`)."""


class DigitsError(Exception):
    """Base class of the core's refusals of an upload."""


class NotAnImage(DigitsError):
    """The bytes are not a decodable image in an accepted format. `reason`: "empty",
    "heic" (an HEVC-coded HEIF, which is not read), "bmp-rle" (a run-length compressed BMP,
    which is not read), "segments" (headers of more chunks, markers or entries than
    decoding.MAX_SEGMENTS), "unreadable" (no accepted format) or "undecodable" (the header reads but
    the pixel data is broken)."""

    SENTENCES = {"empty": "The uploaded file is empty.",
                 "heic": ("The uploaded file is a HEIC/HEIF image (the iPhone camera's format), "
                          "which this service does not read."),
                 "bmp-rle": ("The uploaded file is a run-length compressed (RLE) BMP, which "
                             "this service does not read."),
                 "segments": ("The uploaded file's headers hold far more chunks, markers or "
                              "entries than an image needs."),
                 "unreadable": "The uploaded file is not an image.",
                 "undecodable": "The uploaded file could not be decoded."}

    def __init__(self, reason):
        super().__init__(self.SENTENCES[reason])
        self.reason = reason


class ImageTooLarge(DigitsError):
    """The header declares more pixels than `limit` allows: `width` x `height`."""

    def __init__(self, width, height, limit):
        super().__init__(f"The image is {width}x{height} pixels ({width * height:,}); at most "
                         f"{limit:,} pixels are accepted.")
        self.width, self.height, self.limit = width, height, limit


class DecodingOverBudget(ImageTooLarge):
    """Decoding the image would take `amount` bytes of what `limit` bounds (its `width`,
    `height`, `mode` and `format` as the header declares them); `TAKES` says of what."""

    TAKES = ""

    def __init__(self, width, height, mode, format, amount, limit):  # noqa: A002 (Pillow's)
        DigitsError.__init__(
            self, f"The image is {width}x{height} pixels of mode {mode} ({format}): "
            f"{self.TAKES.format(megabytes(amount))}, over the {megabytes(limit)} allowed by "
            f"{megabytes(amount - limit)}.")
        self.width, self.height, self.limit = width, height, limit
        self.mode, self.format, self.amount = mode, format, amount


class DecodingTooCostly(DecodingOverBudget):
    """Decoding the image would take `amount` bytes of memory, over the `limit` allowed."""

    TAKES = "decoding it would take {} of memory"


class TooMuchPixelData(DecodingOverBudget):
    """Decoding the image would take as long as going through `amount` bytes of pixel data (its
    own, and its coded bytes weighed by what they cost), over the `limit` allowed: more than one
    upload may take a worker's time for."""

    TAKES = "decoding it would take as long as {} of pixel data"


class NoDigitFound(DigitsError):
    """The image decoded, but nothing in it stands out as a digit."""

    def __init__(self):
        super().__init__("No digit was found: the image looks blank or uniform.")


class TooManyDigits(DigitsError):
    """The line holds more digits than `limit`."""

    def __init__(self, limit):
        super().__init__(f"The image holds more than {limit} digits; at most {limit} are read in "
                         "one number.")
        self.limit = limit


class SeveralDigits(DigitsError):
    """A digit was asked for, and the image holds `found` digits (None: more than `limit`)."""

    def __init__(self, found, limit):
        shown = f"more than {limit}" if found is None else str(found)
        super().__init__(f"The image holds {shown} digits, not one.")
        self.found, self.limit = found, limit


class ModelUnavailable(RuntimeError):
    """The model artifact is missing or fails its integrity check; the service must not start.

    A RuntimeError, so that gunicorn prints it as one line and exits instead of a traceback.
    """


def megabytes(count):
    """A byte count as it is shown to people: "64 MB"."""
    return f"{count / 1e6:,.0f} MB"
