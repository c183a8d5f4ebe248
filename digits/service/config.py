"""The service's settings: a table of defaults, overridable by `DIGITS_*` environment variables."""

from pathlib import Path

from digits.core.decoding import MAX_DECODED_BYTES, MAX_PIXEL_DATA, MAX_PIXELS
from digits.core.model import SHIPPED_MODEL
from digits.core.segmentation import MAX_DIGITS

ROOT = Path(__file__).resolve().parents[2]

# name: (default, type, lowest allowed, what it is) -- the README's configuration table
SETTINGS = {
    "MODEL_PATH": (str(SHIPPED_MODEL), str, None,
                   "the trained model (joblib); its metadata (`model.json`) sits beside it"),
    "MAX_UPLOAD_BYTES": (10 * 1024 * 1024, int, 1, "largest request body accepted, in bytes"),
    "MAX_PIXELS": (MAX_PIXELS, int, 1, "largest image accepted, in pixels (width x height)"),
    "MAX_DECODED_BYTES": (MAX_DECODED_BYTES, int, 1,
                          "most memory one image may take while it is decoded: width x height x "
                          "bytes per pixel of its mode, plus its decoder's buffer"),
    "MAX_PIXEL_DATA": (MAX_PIXEL_DATA, int, 1,
                       "most decoding time one image may take, in bytes of pixel data it goes "
                       "through: width x height x bytes per pixel as stored (1 grey, 3 RGB, 4 "
                       "RGBA, twice that at 16 bits), plus half the bytes a pixel of the bands "
                       "made from it at full size (1 more for RGBA, LA or a palette with "
                       "transparency: grey and alpha; 2 for 16-bit grey, scaled through 32 bits; "
                       "0.75-4 for an AVIF's planes, as its header says; 1 for an interlaced "
                       "PNG); a JPEG counts at the reduced size it is decoded at, unless "
                       "progressive (its coefficients, and a quarter of them for each scan past "
                       "10); plus the file's bytes, each weighed by its coding's cost (18 AVIF, "
                       "15 lossy WebP, 6 progressive JPEG, 3 lossless WebP or GIF, 2 JPEG, 1 PNG "
                       "or compressed TIFF), 1 kB for each chunk, marker or entry of its headers "
                       "and 32 bytes for each strip or tile of a TIFF"),
    "CONFIDENCE_THRESHOLD": (None, float, 0.0,
                             "below this confidence a prediction is marked uncertain; unset: "
                             "the model's own (`confidence_threshold` in `model.json`, tuned "
                             "by `train.py`)"),
    "MAX_DIGITS": (MAX_DIGITS, int, 1,
                   "most digits `POST /read` reads in one image, all its lines together; more "
                   "is 422"),
    "BATCH_MAX_FILES": (64, int, 1, "most images in one `POST /predict/batch` or "
                        "`POST /read/batch`"),
    "BATCH_SECONDS": (10.0, float, 0.0, "a batch's time budget: files not started by then are "
                      "answered 503, so a batch cannot outlast gunicorn's worker timeout"),
    # Optional features, all off by default (docs/features.md).
    "URL_FETCH": (False, bool, None, "accept `{\"url\": ...}` JSON on `POST /predict` and "
                  "`POST /read` and fetch the image (public addresses only)"),
    "URL_TIMEOUT": (5.0, float, 0.1, "seconds allowed for fetching one image from a URL"),
    "URL_TRUSTED_NETWORKS": ("", str, None, "comma-separated networks (CIDR) a URL may point at "
                             "although they are not public, e.g. an internal image store"),
    "API_KEYS": (False, bool, None, "require `Authorization: Bearer <key>` on the reading "
                 "endpoints; one credit per image"),
    "DATABASE_URL": (f"sqlite:///{ROOT / 'instance' / 'digits.sqlite3'}", str, None,
                     "where API keys and their credits are kept (`sqlite:///path`)"),
    "RATE_LIMIT": ("", str, None, "requests allowed per client address (per key with API keys) "
                   "on the reading endpoints, e.g. `60/minute;1000/hour`; empty: off"),
    "RATE_LIMIT_STORAGE": ("memory://", str, None, "where the rate limiter counts: `memory://` "
                           "(per worker) or `redis://host:6379` (shared)"),
    "TRUSTED_PROXIES": (0, int, 0, "how many proxies in front (nginx: 1) whose X-Forwarded-For "
                        "names the client, for rate limits per address; 0 trusts none"),
    "CORS_ORIGINS": ("", str, None, "comma-separated origins whose pages may call the API; "
                     "empty: off"),
    "METRICS": (False, bool, None, "serve Prometheus metrics at `GET /metrics`"),
}
KIND_NAMES = {bool: "boolean (true or false)"}
BOOLEANS = {"1": True, "true": True, "yes": True, "on": True,
            "0": False, "false": False, "no": False, "off": False, "": False}


class ConfigError(RuntimeError):
    """A setting cannot be used; the message names the variable and what it accepts.

    A RuntimeError, so that gunicorn prints it as one line and exits instead of a traceback.
    """


def defaults():
    """The default value of every setting."""
    return {name: default for name, (default, *_rest) in SETTINGS.items()}


def validate(config):
    """Coerce every setting in `config` (a mapping, changed in place) to its type.

    Raises ConfigError for a value that is not of the right type or is out of range.
    """
    for name, (default, kind, lowest, _about) in SETTINGS.items():
        value = config[name]
        if default is None and value in (None, ""):  # unset: decided elsewhere
            config[name] = None
            continue
        try:
            if kind is bool:
                value = value if isinstance(value, bool) else BOOLEANS[str(value).lower()]
            elif kind is int and (isinstance(value, bool) or float(value) != int(float(value))):
                raise ValueError
            else:
                value = kind(float(value)) if kind is int else kind(value)
        except (TypeError, ValueError, KeyError):
            kind_name = KIND_NAMES.get(kind, kind.__name__)
            raise ConfigError(f"DIGITS_{name}={config[name]!r} is not a valid {kind_name}; "
                              "see the configuration table in README.md") from None
        if lowest is not None and value < lowest:
            raise ConfigError(f"DIGITS_{name}={value} must be at least {lowest}")
        config[name] = value
    if (config["CONFIDENCE_THRESHOLD"] or 0) > 1:
        raise ConfigError("DIGITS_CONFIDENCE_THRESHOLD must be between 0 and 1")
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_BYTES"]
    return config
