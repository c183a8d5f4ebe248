"""Domain errors raised by the pure functions; `digits.problems` maps them to HTTP."""


class DigitsError(Exception):
    """Base class: `str(error)` is a message written for the person who sent the upload."""

    status = 400
    slug = "bad-request"
    title = "Bad request"


class BadUpload(DigitsError):
    """The request does not carry an image, or a parameter, the way the endpoint expects."""


class UnsupportedBody(DigitsError):
    """The request body is not multipart/form-data."""

    status = 415
    slug = "unsupported-body"
    title = "Unsupported request body"


class NotAnImage(DigitsError):
    """The bytes are not a decodable image in one of the accepted formats."""

    status = 415
    slug = "unsupported-image"
    title = "Unsupported image"


class ImageTooLarge(DigitsError):
    """The image declares more pixels than the configured limit."""

    status = 413
    slug = "image-too-large"
    title = "Image too large"


class NoDigitFound(DigitsError):
    """The image decoded, but nothing in it stands out as ink."""

    status = 422
    slug = "no-digit-found"
    title = "No digit found"


class ModelUnavailable(RuntimeError):
    """The model artifact is missing or fails its integrity check; the service must not start.

    A RuntimeError, so that gunicorn prints it as one line and exits instead of a traceback.
    """
