"""Every error as an RFC 9457 problem document (`application/problem+json`), from one place:
the table of what each refusal is called, its status and the advice a person acts on."""

import json
from dataclasses import dataclass

from flask import Response, current_app, request
from werkzeug.exceptions import HTTPException

from digits.core import errors as core
from digits.service import errors as service

PROBLEM_TYPE = "tag:digits-service,2026:{slug}"  # an identifier; docs/api.md lists every slug
FORMATS = "Send a PNG, JPEG, GIF, BMP, WebP, TIFF or AVIF image of handwritten digits."
KEY_STORE_RETRY_SECONDS = 5  # a database restarting is back in seconds


@dataclass(frozen=True)
class Problem:
    """How a class of refusal is answered: `advice` follows the error's own sentence (one per
    `reason` when it is a dict)."""

    status: int
    slug: str
    title: str
    advice: str | dict = ""
    headers: tuple = ()


PROBLEMS = {
    # the image (the recognition core's refusals)
    core.NotAnImage: Problem(415, "unsupported-image", "Unsupported image", {
        "empty": "", "unreadable": FORMATS, "undecodable": FORMATS,
        "heic": ("Send it as a JPEG or PNG: on an iPhone, Settings > Camera > Formats > Most "
                 "Compatible makes the camera save JPEGs; this service's web page converts HEIC "
                 "itself in a browser that can show it (Safari)."),
        "bmp-rle": "Send it as a PNG, or as a BMP without compression.",
        "segments": "Save it again with an ordinary image editor."}),
    core.DecodingTooCostly: Problem(413, "image-too-large", "Image too large",
                                    "Send it smaller, as 8-bit grey or colour, or as a JPEG."),
    core.TooMuchPixelData: Problem(413, "image-too-large", "Image too large",
                                   "Send it smaller (a few megapixels are plenty for digits), as "
                                   "8-bit grey, or as a baseline (not progressive) JPEG."),
    core.ImageTooLarge: Problem(413, "image-too-large", "Image too large",
                                "Resize or crop it around the digits and try again."),
    core.NoDigitFound: Problem(422, "no-digit-found", "No digit found",
                               "Send an image with a handwritten digit that stands out from the "
                               "paper."),
    core.SeveralDigits: Problem(422, "several-digits", "Several digits",
                                "Send it to POST /read to have it read as a number, digit by "
                                "digit."),
    core.TooManyDigits: Problem(422, "too-many-digits", "Too many digits",
                                "Crop it to the number you want read."),
    # the request (the service's and its features' refusals; their message says it all)
    service.BadUpload: Problem(400, "bad-request", "Bad request"),
    service.UnsupportedBody: Problem(415, "unsupported-body", "Unsupported request body"),
    service.TooManyFiles: Problem(413, "too-many-files", "Too many files"),
    service.BatchTimeExceeded: Problem(503, "batch-time-exceeded", "Not processed in time"),
    service.Unauthorized: Problem(401, "unauthorized", "Unauthorized",
                                  headers=(("WWW-Authenticate", 'Bearer realm="digits"'),)),
    service.CreditsExhausted: Problem(402, "credits-exhausted", "Credits exhausted"),
    service.KeyStoreUnavailable: Problem(503, "key-store-unavailable", "API keys unavailable",
                                         headers=(("Retry-After",
                                                   str(KEY_STORE_RETRY_SECONDS)),)),
    # 422, not 400: the request is well formed (JSON with a string `url`); it is the URL it
    # names that the service will not use
    service.UrlRefused: Problem(422, "url-refused", "URL refused"),
    service.FetchFailed: Problem(502, "url-fetch-failed", "Fetching the URL failed"),
    service.FetchTimedOut: Problem(504, "url-fetch-timed-out", "Fetching the URL timed out"),
    service.FetchTooLarge: Problem(413, "image-too-large", "Image too large"),
}
REFUSALS = (core.DigitsError, service.RequestError)  # what PROBLEMS answers

_DETAILS = {
    404: "There is nothing at {path}. The endpoints are {endpoints}.",
    405: "{method} is not allowed on {path}; use {allowed}.",
    413: "The upload is larger than the {limit:,} bytes accepted. Send a smaller image file.",
    "form": ("The form has more than {parts:,} parts or a text field over {memory:,} bytes. "
             "Send the image in one file field named 'image'."),
    429: ("This client sent more requests than its limit ({description}) allows. Wait as many "
          "seconds as the Retry-After header says, then try again."),
    500: "The server failed to handle this request. It has been logged; try again later.",
}


def problem_of(error):
    """The Problem that answers a refusal (the nearest class of its own in PROBLEMS)."""
    return next(PROBLEMS[kind] for kind in type(error).__mro__ if kind in PROBLEMS)


def problem_body(error):
    """The problem document of a refusal, as a dict (a batch lists one per failed file)."""
    found = problem_of(error)
    advice = found.advice.get(error.reason, "") if isinstance(found.advice, dict) else found.advice
    return document(found.status, found.title, " ".join(filter(None, (str(error), advice))),
                    found.slug)


def document(status, title, detail, slug=None):
    """A problem document as a dict; `slug` names its type, about:blank when HTTP says it all."""
    return {
        "type": PROBLEM_TYPE.format(slug=slug) if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }


def problem(status, title, detail, slug=None, headers=None):
    """A problem+json response (see `document`)."""
    return _response(document(status, title, detail, slug), headers)


def register(app):
    """Install handlers that turn refusals and HTTP exceptions into problem documents."""
    for refusal in REFUSALS:
        app.register_error_handler(refusal, _refusal_problem)
    app.register_error_handler(HTTPException, _http_problem)
    app.register_error_handler(Exception, _unexpected_problem)


def _response(body, headers=None):
    """A problem document as a problem+json response with its status."""
    return Response(json.dumps(body), status=body["status"], headers=headers,
                    mimetype="application/problem+json")


def _refusal_problem(error):
    return _response(problem_body(error), list(problem_of(error).headers))


def _http_problem(error):
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    # the Allow header lists every method; the sentence names the ones a person would use
    allowed = " or ".join(sorted(set(getattr(error, "valid_methods", None) or [])
                                 - {"HEAD", "OPTIONS"}))
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    template = _DETAILS.get(error.code)
    if error.code == 413 and request.content_length is not None and request.content_length <= limit:
        template = _DETAILS["form"]  # Werkzeug's other 413s: too many parts, too long a field
    detail = (template.format(path=request.path, method=request.method, allowed=allowed,
                              limit=limit, parts=current_app.config["MAX_FORM_PARTS"],
                              memory=current_app.config["MAX_FORM_MEMORY_SIZE"],
                              description=error.description, endpoints=_endpoints())
              if template else error.description)
    return problem(error.code, error.name, detail, headers=headers)


def _endpoints():
    """This app's routes as "GET / (the page), GET /health, ...", in the order of their paths."""
    rules = sorted((rule for rule in current_app.url_map.iter_rules()
                    if rule.endpoint != "static"), key=lambda rule: rule.rule)
    names = [f"{method} {rule.rule}" + (" (the page)" if rule.rule == "/" else "")
             for rule in rules for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _unexpected_problem(error):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "Internal Server Error", _DETAILS[500])
