"""Rate limiting (DIGITS_RATE_LIMIT): per client address, or per key with API keys; 429 as a
problem document with Retry-After; off by default."""

import io
import socket
import subprocess
import threading
import time
from urllib.parse import urlsplit

import pytest

from conftest import (TEST_IMAGES, create_key, free_port, gunicorn_serving, parallel_predictions,
                      start_redis)
from digits import app as app_factory
from digits.features import bounded
from digits.service.config import ConfigError
from digits.service.routes import reading_routes
from service import create_app


def post(client, address="10.0.0.1", key=None, path="/predict"):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    field = "images" if path.endswith("/batch") else "image"
    return client.post(path, data={field: (io.BytesIO(TEST_IMAGES[0].read_bytes()), "a.png")},
                       headers=headers, environ_base={"REMOTE_ADDR": address},
                       content_type="multipart/form-data")


def limited(**config):
    return create_app({"TESTING": True, "RATE_LIMIT": "2/minute", **config})


def test_over_the_limit_gets_429_with_retry_after():
    client = limited().test_client()
    assert [post(client).status_code for _ in range(2)] == [200, 200]
    refused = post(client)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "2 per 1 minute" in refused.get_json()["detail"]
    assert "Retry-After" in refused.get_json()["detail"]


def test_each_client_address_has_its_own_allowance():
    client = limited().test_client()
    assert [post(client, "10.0.0.1").status_code for _ in range(3)] == [200, 200, 429]
    assert post(client, "10.0.0.2").status_code == 200


def test_the_reading_endpoints_share_one_allowance_and_other_endpoints_are_free():
    client = limited(RATE_LIMIT="4/minute").test_client()
    assert post(client).status_code == 200
    assert post(client, path="/predict/batch").status_code == 200
    assert post(client, path="/read").status_code == 200
    assert post(client, path="/read/batch").status_code == 200
    assert post(client).status_code == 429
    assert post(client, path="/read").status_code == 429
    assert all(client.get("/health", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code
               == 200 for _ in range(5))


def test_successful_answers_carry_no_retry_after():
    response = post(limited().test_client())
    assert response.status_code == 200
    assert "Retry-After" not in response.headers
    assert response.headers["X-RateLimit-Remaining"] == "1"


def test_with_api_keys_the_allowance_is_per_key(tmp_path):
    app = limited(API_KEYS=True, DATABASE_URL=f"sqlite:///{tmp_path / 'k.sqlite3'}")
    (_, first), (_, second) = create_key(app, 10, "a"), create_key(app, 10, "b")
    client = app.test_client()
    assert [post(client, "10.0.0.1", first).status_code for _ in range(3)] == [200, 200, 429]
    assert post(client, "10.0.0.1", second).status_code == 200  # same address, other key


def test_off_by_default(client):
    assert all(post(client).status_code == 200 for _ in range(5))


def test_a_limit_that_does_not_parse_refuses_to_start():
    with pytest.raises(ConfigError, match="DIGITS_RATE_LIMIT='lots' is not a rate limit"):
        create_app({"RATE_LIMIT": "lots"})


def test_with_redis_every_gunicorn_worker_counts_against_one_limit(redis_url):
    with gunicorn_serving({"DIGITS_RATE_LIMIT": "5/minute", "DIGITS_RATE_LIMIT_STORAGE": redis_url},
                          workers=2) as url:
        statuses = parallel_predictions(url, 12, TEST_IMAGES[0].read_bytes(), threads=6)
    assert sorted(statuses) == [200] * 5 + [429] * 7


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance():
    client = limited(TRUSTED_PROXIES=1).test_client()

    def via_proxy(forwarded_for):
        return client.post("/predict", headers={"X-Forwarded-For": forwarded_for},
                           data={"image": (io.BytesIO(TEST_IMAGES[0].read_bytes()), "a.png")},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code

    assert [via_proxy("203.0.113.7") for _ in range(3)] == [200, 200, 429]
    assert via_proxy("198.51.100.9") == 200


def test_without_trusted_proxies_x_forwarded_for_is_ignored():
    """A client cannot dodge its limit by sending its own X-Forwarded-For."""
    client = limited().test_client()
    statuses = [client.post("/predict", headers={"X-Forwarded-For": f"203.0.113.{i}"},
                            data={"image": (io.BytesIO(TEST_IMAGES[0].read_bytes()), "a.png")},
                            environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code
                for i in range(3)]
    assert statuses == [200, 200, 429]


def test_keys_and_limits_guard_a_route_added_to_the_reading_blueprint(tmp_path, monkeypatch):
    # they attach to the blueprint, not to a list of routes that a new one could be missing from
    def with_a_new_route():
        reading = reading_routes()
        reading.add_url_rule("/read/new", "new_route", lambda: "read", methods=["POST"])
        return reading

    monkeypatch.setattr(app_factory, "reading_routes", with_a_new_route)
    app = limited(API_KEYS=True, DATABASE_URL=f"sqlite:///{tmp_path / 'k.sqlite3'}")
    _, key = create_key(app, 10, "a")
    client = app.test_client()
    assert post(client, path="/read/new").status_code == 401
    assert [post(client, key=key, path=path).status_code
            for path in ("/read/new", "/predict", "/read/new")] == [200, 200, 429]
    assert client.get("/health").status_code == 200


def test_with_redis_gone_requests_are_served_and_limits_are_shared_again_when_it_is_back(
        tmp_path):
    """Fail open: while Redis is away each worker counts in its own memory (no 500, no 503);
    once Redis answers again the limits are counted there, shared, with nothing restarted."""
    import redis
    port = free_port()
    storage = f"redis://127.0.0.1:{port}"
    server = start_redis(tmp_path, port)
    first = limited(RATE_LIMIT="50/minute", RATE_LIMIT_STORAGE=storage).test_client()
    assert post(first).status_code == 200
    server.kill()
    server.wait(timeout=10)
    during = [post(first) for _ in range(2)]
    server = start_redis(tmp_path, port)
    try:
        counted = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(60):  # the limiter looks for Redis again after 1, 2, 4 ... s
            back = post(first)
            stored = counted.dbsize()
            if stored:
                break
            time.sleep(0.5)
        second = limited(RATE_LIMIT="50/minute", RATE_LIMIT_STORAGE=storage).test_client()
        remaining = [int(post(client).headers["X-RateLimit-Remaining"])
                     for client in (first, second, first)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert [response.status_code for response in during] == [200, 200]
    assert back.status_code == 200 and stored > 0
    assert remaining[1] == remaining[0] - 1 and remaining[2] == remaining[0] - 2  # one count


def redis_connection_options(app):
    """The options the app's rate limiter makes its Redis connections with."""
    (limiter,) = app.extensions["limiter"]
    return limiter.storage.storage.connection_pool.connection_kwargs


def test_a_redis_that_accepts_but_never_answers_holds_a_request_for_under_a_second():
    """A Redis behind a partition or on a stalled host accepts the connection and then says
    nothing: the limiter gives up on it within its socket timeouts (redis-py's own default is
    5 s for each of the two operations a request makes) and the request is served, fail open."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; no one reads
        app = limited(RATE_LIMIT="50/minute",
                      RATE_LIMIT_STORAGE=f"redis://127.0.0.1:{silent.getsockname()[1]}")
        answers = []
        request = threading.Thread(target=lambda: answers.append(post(app.test_client())),
                                   daemon=True)
        request.start()
        request.join(timeout=60)  # a guard against hanging, not a timing
        assert not request.is_alive()
    assert [answer.status_code for answer in answers] == [200]
    options = redis_connection_options(app)
    assert 0 < options["socket_connect_timeout"] <= 0.5 and 0 < options["socket_timeout"] <= 0.5


def answered_while_its_lookup_hangs(monkeypatch, scheme):
    """Whether a request is answered, fail open, while the lookup of its limiter's Redis
    (a `scheme` URL) hangs: the DNS drops it (released after the request, or a 5 s guard)."""
    real_lookup, release, ended = socket.getaddrinfo, threading.Event(), threading.Event()

    def lookup(host, *args, **kwargs):
        if host == "redis.hangs.test":
            release.wait(5)  # a guard against hanging; the request must not wait for it
            ended.set()
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    hanging = limited(RATE_LIMIT="50/minute",
                      RATE_LIMIT_STORAGE=f"{scheme}://redis.hangs.test:6379")
    answer = post(hanging.test_client())
    answered_while_hanging = not ended.is_set()
    release.set()
    monkeypatch.setattr(socket, "getaddrinfo", real_lookup)
    return answer.status_code == 200 and answered_while_hanging


def test_a_redis_whose_name_lookup_hangs_holds_a_request_no_longer_than_its_bound(
        monkeypatch, tmp_path):
    """redis-py bounds connecting and each answer, not the host name's lookup: with the DNS
    dropping the lookups of a Redis just started, a request waited 20 s under compose. The
    lookup is now given up on within the limiter's bound and the request served, fail open,
    while the lookup still hangs; a Redis found by its name is counted in as before."""
    assert answered_while_its_lookup_hangs(monkeypatch, "redis")
    port = free_port()
    server = start_redis(tmp_path, port)
    try:
        found = limited(RATE_LIMIT="50/minute", RATE_LIMIT_STORAGE=f"redis://localhost:{port}")
        assert post(found.test_client()).status_code == 200
        import redis
        counted = redis.Redis(host="127.0.0.1", port=port).dbsize()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert counted > 0  # counted in Redis, reached through the name looked up


class NamedRedis:
    """The DNS as a test sets it: the name `redis.named.test` answers `address` (or, with
    `address` None, the lookup fails as a DNS that drops it: EAI_AGAIN), and each lookup of
    it is counted; other names are looked up for real."""

    NAME = "redis.named.test"

    def __init__(self, monkeypatch, address):
        self.address, self.lookups = address, 0
        real_lookup = socket.getaddrinfo

        def lookup(host, port, *args, **kwargs):
            if host != self.NAME:
                return real_lookup(host, port, *args, **kwargs)
            self.lookups += 1
            if self.address is None:
                raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
            return real_lookup(self.address, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", lookup)

    def url_of(self, url):
        """`url` (a redis:// URL naming an address) naming the server by NAME instead."""
        return f"redis://{self.NAME}:{urlsplit(url).port}"


def test_a_fresh_worker_s_first_redis_connection_needs_no_lookup(monkeypatch, redis_url):
    """gunicorn's master looks Redis's name up as it starts; a worker's first connection goes
    to that address without a lookup (a fresh replica's workers connect as its container
    starts, when podman's DNS drops lookups: each first request waited the lookup's bound and
    was counted in memory). The connections after it look the name up again."""
    import redis
    dns = NamedRedis(monkeypatch, "127.0.0.1")
    app = limited(RATE_LIMIT="50/minute", RATE_LIMIT_STORAGE=dns.url_of(redis_url))
    at_start, dns.address = dns.lookups, None  # from now on, every lookup of it is lost
    client, counted = app.test_client(), redis.Redis.from_url(redis_url)
    first = post(client)
    counted_first = counted.dbsize()
    counted.client_kill_filter(_type="normal", skipme=True)  # the next needs a connection
    later = post(client)
    assert first.status_code == 200 and counted_first > 0  # in Redis, not the worker's memory
    assert at_start == 1
    assert later.status_code == 200 and dns.lookups - at_start >= 1  # by name: it may have moved


def test_an_address_found_at_start_that_refuses_is_looked_up_again(monkeypatch, redis_url):
    """A Redis that moved since gunicorn's master started (a container made again) refuses at
    the address found then: the first connection looks the name up instead, and counts there."""
    import redis
    dns = NamedRedis(monkeypatch, "127.0.0.2")  # redis_url's server is on 127.0.0.1 alone
    app = limited(RATE_LIMIT="50/minute", RATE_LIMIT_STORAGE=dns.url_of(redis_url))
    dns.address = "127.0.0.1"
    answer = post(app.test_client())
    assert answer.status_code == 200 and redis.Redis.from_url(redis_url).dbsize() > 0


def test_an_address_found_longer_ago_than_the_start_s_bound_is_looked_up_again(
        monkeypatch, redis_url):
    """A worker forked, or first asked, long after the start connects by name: a Redis
    restarted since may have moved, and its old address drops what is sent to it (under
    compose the first connection there waited the limiter's bound)."""
    import redis
    dns = NamedRedis(monkeypatch, "127.0.0.1")
    app = limited(RATE_LIMIT="50/minute", RATE_LIMIT_STORAGE=dns.url_of(redis_url))
    at_start = dns.lookups
    monkeypatch.setattr(bounded, "FOUND_AT_START_SECONDS", 0.0)
    answer = post(app.test_client())
    assert at_start == 1 and dns.lookups == 2
    assert answer.status_code == 200 and redis.Redis.from_url(redis_url).dbsize() > 0


def self_signed_for_localhost(folder):
    """A certificate for the name localhost (not its address) and its key, made by openssl:
    (certificate file, key file)."""
    certificate, key = folder / "localhost.pem", folder / "localhost.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    return certificate, key


def test_a_tls_redis_whose_name_lookup_hangs_holds_a_request_no_longer_than_its_bound(
        monkeypatch, tmp_path):
    """`rediss://` connects its own connection class, which looked its name up unbounded: a
    lookup the DNS drops held a request for the resolver's timeouts. It is bounded as over TCP,
    and the request served, fail open; a TLS Redis found by its name is reached at the address
    looked up and its certificate still checked against the name (one for localhost alone: a
    handshake checked against 127.0.0.1 would fail, and the request be counted in memory)."""
    assert answered_while_its_lookup_hangs(monkeypatch, "rediss")
    certificate, key = self_signed_for_localhost(tmp_path)
    port = free_port()
    server = start_redis(tmp_path, port, tls=(certificate, key))
    try:
        found = limited(RATE_LIMIT="50/minute",
                        RATE_LIMIT_STORAGE=f"rediss://localhost:{port}?ssl_ca_certs={certificate}")
        response = post(found.test_client())
        import redis
        counted = redis.Redis(host="localhost", port=port, ssl=True,
                              ssl_ca_certs=str(certificate)).dbsize()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert response.status_code == 200
    assert counted > 0  # counted in Redis over TLS, not in the worker's memory


def test_timeouts_in_the_redis_url_take_precedence():
    app = limited(RATE_LIMIT_STORAGE="redis://127.0.0.1:6379?socket_timeout=2")
    assert redis_connection_options(app)["socket_timeout"] == 2


def test_requests_counted_in_memory_while_redis_is_gone_are_counted_in_metrics(tmp_path):
    import re
    port = free_port()
    server = start_redis(tmp_path, port)
    client = limited(RATE_LIMIT="50/minute", RATE_LIMIT_STORAGE=f"redis://127.0.0.1:{port}",
                     METRICS=True).test_client()

    def unshared():
        text = client.get("/metrics").get_data(as_text=True)
        return float(re.search(r"^digits_rate_limit_unshared_requests_total (\S+)$", text,
                               re.M).group(1))

    try:
        assert post(client).status_code == 200 and unshared() == 0  # counted in Redis
    finally:
        server.kill()
        server.wait(timeout=10)
    assert [post(client).status_code for _ in range(3)] == [200] * 3
    assert unshared() == 3
