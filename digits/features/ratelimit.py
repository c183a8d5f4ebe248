"""Rate limiting (optional: DIGITS_RATE_LIMIT) with Flask-Limiter: requests per client
address on the reading endpoints (/predict, /read, their batches), or per API key when keys
are on.

`memory://` storage counts in each gunicorn worker separately (with 2 workers a client may get
up to twice the limit); point DIGITS_RATE_LIMIT_STORAGE at Redis to share the counts. Behind
a proxy, DIGITS_TRUSTED_PROXIES says how many X-Forwarded-For hops to believe.
"""

import socket
from urllib.parse import urlsplit

from flask import request
from flask_limiter import Limiter
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from digits.features.bounded import FoundAtStart, within
from digits.features.keys import current_key
from digits.service import signals
from digits.service.config import ConfigError

# Redis answers a LAN client in about a millisecond. On a server that accepts but does not
# answer (a partition, a stalled host, a host lost outright) redis-py waits its own default of
# 5 s for each operation, holding the worker and its request; past this the limiter falls back
# to memory instead.
# Options in the storage URL (`?socket_timeout=…`) take precedence.
REDIS_TIMEOUT_SECONDS = 0.25
# How long gunicorn's master, as it starts, waits for the lookup of Redis's host name whose
# address each worker's first connection then takes (`address_at_start`). Nothing is served
# yet; past it the workers look the name up themselves, as before.
START_LOOKUP_SECONDS = 1.0


def address_at_start(storage):
    """The address of the Redis a `redis://` or `rediss://` storage URL names, looked up within
    START_LOOKUP_SECONDS (a FoundAtStart), or None when the lookup fails or takes longer.
    Called as the app is made, in gunicorn's preloading master, before the workers are
    forked."""
    parts = urlsplit(storage)
    try:
        found = within(START_LOOKUP_SECONDS, socket.getaddrinfo, parts.hostname,
                       parts.port or 6379, 0, socket.SOCK_STREAM,
                       once=f"lookup of {parts.hostname}")
    except (OSError, ValueError):  # TimeoutError is an OSError; ValueError: a bad port
        return None
    return FoundAtStart(found[0][4][0]) if found else None


def connection_looking_up_within(seconds, tls=False, found_at=None):
    """redis-py's connection class (TCP, or TLS for `rediss://` with `tls`), its host name
    looked up within `seconds` (`bounded.within`), then connected to as before. redis-py bounds
    connecting and each answer, not the lookup: with the lookups of a Redis just started
    dropped by the DNS, each request waited 20 s (two lookups of 10 s) before the limiter fell
    back to memory. Over TLS only the TCP connection goes to the address looked up: the
    certificate is still checked against the name.

    `found_at` (`address_at_start`'s FoundAtStart) is where a process's first connection goes,
    without a lookup, within FOUND_AT_START_SECONDS of the start: a fresh worker connects on
    its first request, as its container starts, when podman's DNS drops lookups (each worker's
    first request waited the lookup's bound, and counted in memory). The connections after it
    look the name up (a Redis restarted since may have moved), and so do a later first one and
    a first one the address refuses or does not answer."""
    from redis.connection import Connection, SSLConnection

    first = [found_at]  # this process's first connection's address (a fork copies it unused)

    class LookingUpWithin(Connection):
        def _connect(self):
            found, first[0] = first[0] and first[0].current(), None
            if found:
                try:
                    return self._connect_to(found)
                except OSError:
                    pass  # moved, or gone: by name, as any later connection
            # a TimeoutError here is redis-py's "Timeout connecting to server", as its own; the
            # first address is the one redis-py would try first
            return self._connect_to(within(seconds, socket.getaddrinfo, self.host, self.port,
                                           self.socket_type, socket.SOCK_STREAM,
                                           once=f"lookup of {self.host}")[0][4][0])

        def _connect_to(self, address):
            """redis-py's own connection, made to `address` instead of the host's name."""
            host, self.host = self.host, address
            try:
                return super()._connect()
            finally:
                self.host = host

    if not tls:
        return LookingUpWithin

    class TlsLookingUpWithin(SSLConnection, LookingUpWithin):
        # SSLConnection._connect wraps what Connection._connect returns, which LookingUpWithin
        # now stands before: the TCP connection goes to the address, and the handshake,
        # after LookingUpWithin has put the name back, checks the certificate against it
        pass

    return TlsLookingUpWithin


def client_identity():
    """The API key when the request carries a valid one, else the client's address."""
    key = current_key()
    return f"key:{key}" if key else f"address:{request.remote_addr}"


def register(app, reading):
    """Limit the `reading` blueprint's routes, together; a refused request gets 429 with
    Retry-After.

    Raises ConfigError for a limit that does not parse.
    """
    try:
        parse_many(app.config["RATE_LIMIT"])
    except ValueError:
        raise ConfigError(f"DIGITS_RATE_LIMIT={app.config['RATE_LIMIT']!r} is not a rate limit "
                          "such as '60/minute' or '10/second;1000/hour'") from None

    @app.after_request
    def retry_after_only_on_429(response):
        # runs after Flask-Limiter's header hook (registered later, so called earlier); a 503
        # keeps the Retry-After of its own problem (the limiter only ever lengthens it)
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    if app.config["TRUSTED_PROXIES"]:
        # behind nginx every request comes from nginx: the client is in X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])
    # Fail open: with Redis unreachable each worker counts the same limits in its own memory
    # (logged once as a warning) and goes back to Redis by itself once it answers again
    # (checked after 1, 2, 4 ... 32 s). A limit protects capacity; refusing every reading
    # request because its counter is away would turn a small outage into a whole one.
    storage = app.config["RATE_LIMIT_STORAGE"]
    redis_options = ({"socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                      "socket_timeout": REDIS_TIMEOUT_SECONDS}
                     if storage.startswith("redis") else {})
    # Sentinel and Cluster find their servers their own way, and look them up unbounded
    if storage.startswith(("redis://", "rediss://")):
        redis_options["connection_class"] = connection_looking_up_within(
            REDIS_TIMEOUT_SECONDS, tls=storage.startswith("rediss://"),
            found_at=address_at_start(storage))
    limiter = Limiter(client_identity, app=app, storage_uri=storage, storage_options=redis_options,
                      headers_enabled=True, strategy="fixed-window",
                      in_memory_fallback_enabled=True, swallow_errors=True)
    limiter.shared_limit(app.config["RATE_LIMIT"], scope="reading")(reading)

    @reading.after_request
    def tell_when_unshared(response):
        # the limiter answers from its in-memory fallback while the storage is unreachable
        if limiter.limiter.storage is not limiter.storage:
            signals.limits_unshared.send(app)
        return response
