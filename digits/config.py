"""The service's settings: a table of defaults, overridable by `DIGITS_*` environment variables."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name: (default, type, lowest allowed, what it is) -- the README's configuration table
SETTINGS = {
    "MODEL_PATH": (str(ROOT / "artifacts" / "model.joblib"), str, None,
                   "the trained model; the weights the service runs (`model.npz`) and "
                   "the metadata (`model.json`) sit beside it"),
    "MAX_UPLOAD_BYTES": (10 * 1024 * 1024, int, 1, "largest request body accepted, in bytes"),
    "MAX_PIXELS": (40_000_000, int, 1, "largest image accepted, in pixels (width x height)"),
    "CONFIDENCE_THRESHOLD": (0.5, float, 0.0,
                             "below this confidence a prediction is marked uncertain"),
}


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
    for name, (_default, kind, lowest, _about) in SETTINGS.items():
        value = config[name]
        try:
            if kind is int and (isinstance(value, bool) or float(value) != int(float(value))):
                raise ValueError
            value = kind(float(value)) if kind is int else kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"DIGITS_{name}={config[name]!r} is not a valid {kind.__name__}; "
                              "see the configuration table in README.md") from None
        if lowest is not None and value < lowest:
            raise ConfigError(f"DIGITS_{name}={value} must be at least {lowest}")
        config[name] = value
    if config["CONFIDENCE_THRESHOLD"] > 1:
        raise ConfigError("DIGITS_CONFIDENCE_THRESHOLD must be between 0 and 1")
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_BYTES"]
    return config
