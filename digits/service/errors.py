"""What the service refuses about a request itself (its form, its key, the URL it names), as
opposed to the image in it (`digits.core.errors`). `str(error)` is the whole detail a person
reads; `digits.service.problems` gives each class its status, type and title."""


class RequestError(Exception):
    """Base class of the service's refusals of a request."""


class BadUpload(RequestError):
    """The request does not carry an image, or a parameter, the way the endpoint expects."""


class UnsupportedBody(RequestError):
    """The request body is not multipart/form-data."""


class TooManyFiles(RequestError):
    """A batch holds more images than the configured limit."""


class BatchTimeExceeded(RequestError):
    """A batch used its time budget before this file's turn came."""


class Unauthorized(RequestError):
    """API keys are on and the request has no valid key."""


class CreditsExhausted(RequestError):
    """The key has fewer credits left than the request has images."""


class KeyStoreUnavailable(RequestError):
    """API keys are on and their database cannot be reached."""


class UrlRefused(RequestError):
    """The URL is not one the service will fetch (scheme, or an address that is not public)."""


class FetchFailed(RequestError):
    """Fetching the image from its URL failed: no connection, or an error status."""


class FetchTimedOut(RequestError):
    """Fetching the image from its URL took longer than allowed."""


class FetchTooLarge(RequestError):
    """The file at the URL is larger than an upload may be."""
