"""The digits HTTP service: `create_app` builds it (see `digits.app`).

Run it with `gunicorn -c gunicorn.conf.py` (see README.md); `flask --app service run` for a
development server.
"""

from digits.app import create_app

__all__ = ["create_app"]
