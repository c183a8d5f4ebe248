"""Cross-origin requests (optional: DIGITS_CORS_ORIGINS) with flask-cors: pages served from the
listed origins may call the API from a browser; every other origin gets no CORS headers."""

import re

from flask_cors import CORS

from digits.service.config import ConfigError

ORIGIN = re.compile(r"https?://[^/\s,]+")


def allowed_origins(setting):
    """The comma-separated origins of DIGITS_CORS_ORIGINS; ConfigError for one that is not
    scheme://host[:port]."""
    origins = [origin.strip().rstrip("/") for origin in setting.split(",") if origin.strip()]
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise ConfigError(f"DIGITS_CORS_ORIGINS: {origin!r} is not an origin such as "
                              "https://example.com or http://localhost:3000")
    return origins


def register(app, _reading):
    """Answer CORS preflights and add CORS headers for the allowed origins."""
    CORS(app, origins=allowed_origins(app.config["CORS_ORIGINS"]), methods=["GET", "POST"],
         allow_headers=["Authorization", "Content-Type"],
         expose_headers=["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                         "X-RateLimit-Reset"], max_age=600)
