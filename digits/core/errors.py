"""Domain errors raised by the pure functions; `digits.service.problems` maps them to HTTP."""


class DigitsError(Exception):
    """Base class: `str(error)` is a message written for the person who sent the upload."""

    status = 400
    slug = "bad-request"
    title = "Bad request"
    headers = ()


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


class SeveralLines(DigitsError):
    """The ink lies in two or more lines; a number is read from one line."""

    status = 422
    slug = "several-lines"
    title = "Several lines"


class SeveralDigits(DigitsError):
    """`POST /predict` got an image that holds several digits: a number is read by /read."""

    status = 422
    slug = "several-digits"
    title = "Several digits"


class TooManyDigits(DigitsError):
    """The line holds more digits than DIGITS_MAX_DIGITS."""

    status = 422
    slug = "too-many-digits"
    title = "Too many digits"


class TooManyFiles(DigitsError):
    """A batch holds more images than the configured limit."""

    status = 413
    slug = "too-many-files"
    title = "Too many files"


class BatchTimeExceeded(DigitsError):
    """A batch used its time budget before this file's turn came."""

    status = 503
    slug = "batch-time-exceeded"
    title = "Not processed in time"


class Unauthorized(DigitsError):
    """API keys are on and the request has no valid key."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"
    headers = (("WWW-Authenticate", 'Bearer realm="digits"'),)


class CreditsExhausted(DigitsError):
    """The key has fewer credits left than the request has images."""

    status = 402
    slug = "credits-exhausted"
    title = "Credits exhausted"


class UrlRefused(DigitsError):
    """The URL is not one the service will fetch (scheme, or an address that is not public).

    422, not 400: the request is well formed (JSON with a string `url`, as the OpenAPI
    description says); it is the URL it names that the service will not use.
    """

    status = 422
    slug = "url-refused"
    title = "URL refused"


class FetchFailed(DigitsError):
    """Fetching the image from its URL failed: no connection, or an error status."""

    status = 502
    slug = "url-fetch-failed"
    title = "Fetching the URL failed"


class FetchTimedOut(DigitsError):
    """Fetching the image from its URL took longer than allowed."""

    status = 504
    slug = "url-fetch-timed-out"
    title = "Fetching the URL timed out"


class ModelUnavailable(RuntimeError):
    """The model artifact is missing or fails its integrity check; the service must not start.

    A RuntimeError, so that gunicorn prints it as one line and exits instead of a traceback.
    """
