"""Every error as an RFC 9457 problem document (`application/problem+json`), from one place."""

import json

from flask import Response, current_app, request
from werkzeug.exceptions import HTTPException

from digits.core.errors import DigitsError

PROBLEM_TYPE = "tag:digits-service,2026:{slug}"  # an identifier; docs/api.md lists every slug

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
    return Response(json.dumps(document(status, title, detail, slug)), status=status,
                    headers=headers, mimetype="application/problem+json")


def register(app):
    """Install handlers that turn domain errors and HTTP exceptions into problem documents."""
    app.register_error_handler(DigitsError, _domain_problem)
    app.register_error_handler(HTTPException, _http_problem)
    app.register_error_handler(Exception, _unexpected_problem)


def problem_body(error):
    """The problem document of a domain error, as a dict (a batch lists one per failed file)."""
    return document(error.status, error.title, str(error), error.slug)


def _domain_problem(error):
    return problem(error.status, error.title, str(error), error.slug, headers=list(error.headers))


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
