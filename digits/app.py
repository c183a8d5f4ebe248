"""The app factory: settings, the reader, the routes and the optional features that are on.

It sits above both the service (`digits.service`) and the features (`digits.features`): the
service knows no feature, and each feature attaches itself to the app and to the reading routes'
blueprint it is given.
"""

import importlib

from flask import Flask

from digits.features import keys
from digits.service import config as settings
from digits.service import problems, state
from digits.service.routes import about_routes, reading_routes

STATIC = settings.ROOT / "digits" / "service" / "static"
# Optional features: the setting that turns each on, and the module that installs it. A module
# is imported only when its feature is on, so the default deploy never loads their libraries.
# In this order: metrics time everything; keys identify the caller before the rate limiter.
OPTIONAL_FEATURES = (
    ("METRICS", "digits.features.metrics"),
    ("API_KEYS", "digits.features.keys"),
    ("RATE_LIMIT", "digits.features.ratelimit"),
    ("CORS_ORIGINS", "digits.features.cors"),
    ("URL_FETCH", "digits.features.fetch"),
)


def create_app(config=None):
    """Build the app: settings from defaults, then `DIGITS_*` variables, then `config`.

    Raises ConfigError for an unusable setting and ModelUnavailable when the model is missing
    or fails its integrity check, so that a broken deploy refuses to start.
    """
    app = Flask("digits", root_path=str(settings.ROOT), static_folder=str(STATIC))
    app.json.sort_keys = False  # keep answers in the documented order: digit first
    app.config.update(settings.defaults())
    app.config.from_prefixed_env("DIGITS")
    app.config.update(config or {})
    settings.validate(app.config)
    state.init_app(app)
    problems.register(app)
    app.cli.add_command(keys.cli)  # `flask --app service keys ...`, whether keys are on or not
    # Each feature guards the reading routes through their blueprint, so it is attached to the
    # blueprint before the blueprint is registered.
    reading = reading_routes()
    for setting, module in OPTIONAL_FEATURES:
        if app.config[setting]:
            importlib.import_module(module).register(app, reading)
    app.register_blueprint(about_routes())
    app.register_blueprint(reading)
    return app
