"""Prometheus metrics (optional: DIGITS_METRICS) at GET /metrics.

Under gunicorn, gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh directory before
the app is loaded: every worker writes its counts there and /metrics adds up all workers, so
any worker gives the same answer. Without it (tests, `flask run`) a process counts alone.
"""

import os
import time

from flask import Blueprint, Response, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest, multiprocess)

from digits.service import signals

LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


def register(app, _reading):
    """Count every request, prediction and rejected upload; serve them at GET /metrics."""
    registry = CollectorRegistry()
    requests = Counter("digits_http_requests", "HTTP requests by endpoint, method and status",
                       ["endpoint", "method", "status"], registry=registry)
    latency = Histogram("digits_http_request_duration_seconds",
                        "Time to answer, by endpoint", ["endpoint"],
                        buckets=LATENCY_BUCKETS, registry=registry)
    predictions = Counter("digits_predictions", "Predictions by digit", ["digit"],
                          registry=registry)
    rejected = Counter("digits_rejected_uploads", "Images refused, by problem type",
                       ["reason"], registry=registry)
    unshared = Counter("digits_rate_limit_unshared_requests",
                       "Reading requests whose rate limit was counted in one worker's memory, "
                       "the shared storage (Redis) being unreachable", registry=registry)

    @app.before_request
    def start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count(response):
        # the route's pattern, never the raw path: a scanner must not create endless series
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        requests.labels(endpoint, request.method, str(response.status_code)).inc()
        if "metrics_started" in g:
            latency.labels(endpoint).observe(time.perf_counter() - g.metrics_started)
        return response

    signals.predicted.connect(lambda _app, digit: predictions.labels(str(digit)).inc(),
                              sender=app, weak=False)
    signals.rejected.connect(lambda _app, reason: rejected.labels(reason).inc(),
                             sender=app, weak=False)
    signals.limits_unshared.connect(lambda _app: unshared.inc(), sender=app, weak=False)
    routes = Blueprint("metrics", __name__)
    routes.add_url_rule("/metrics", "metrics_route", lambda: exposition(registry))
    app.register_blueprint(routes)


def exposition(registry):
    """The metrics in Prometheus' text format: all workers' when they share a directory."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
