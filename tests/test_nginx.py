"""deploy/nginx/digits.conf as deployed: Debian's nginx in front of two gunicorn instances that
share Redis (rate limits) and PostgreSQL (keys and credits).

Skipped where nginx is not installed (a failure under CI, which installs it).
"""

import http.client
import json
import os
import secrets
import socket
from contextlib import ExitStack, contextmanager

import pytest
import requests

from bench.nginx import SITE, nginx_binary, nginx_serving
from bench.run import BOUNDARY, multipart
from bench.slow_clients import trickling
from conftest import (TEST_IMAGES, create_key, dropping_connections, free_port,
                      gunicorn_serving, output, redis_serving)
from service import create_app

pytestmark = pytest.mark.server

IMAGE = TEST_IMAGES[0]
LIMIT = 5  # requests a minute per key, or per client address without keys


@pytest.fixture(scope="module", autouse=True)
def nginx_installed():
    if nginx_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the nginx tests: install Debian's nginx")
        pytest.skip("nginx is not installed (apt-get install nginx)")


@contextmanager
def deployment(settings):
    """nginx in front of two gunicorn instances (2 workers each) with these settings; yields
    (nginx's URL, the instances' processes)."""
    with ExitStack() as stack:
        instances = [stack.enter_context(gunicorn_serving(settings, workers=2, process=True))
                     for _ in range(2)]
        url = stack.enter_context(nginx_serving([url for url, _ in instances]))
        yield url, [process for _, process in instances]


@pytest.fixture(scope="module")
def keyed(postgres, tmp_path_factory):
    """Keys and credits in PostgreSQL, limits per key in Redis, behind nginx; yields
    (nginx's URL, the instances' processes, a function that makes a key with some credits)."""
    import psycopg
    name = f"keys_{secrets.token_hex(4)}"
    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    database = f"{postgres}/{name}"
    admin = create_app({"API_KEYS": True, "DATABASE_URL": database})

    def make_key(credits):
        return create_key(admin, credits, "nginx")[1]

    with redis_serving(tmp_path_factory.mktemp("redis")) as redis_url:
        with deployment({"DIGITS_API_KEYS": "true", "DIGITS_DATABASE_URL": database,
                         "DIGITS_RATE_LIMIT": f"{LIMIT}/minute",
                         "DIGITS_RATE_LIMIT_STORAGE": redis_url,
                         "DIGITS_TRUSTED_PROXIES": "1"}) as (url, processes):
            yield url, processes, make_key


@pytest.fixture(scope="module")
def by_address(tmp_path_factory):
    """No keys; limits per client address in Redis, X-Forwarded-For trusted from one proxy."""
    with redis_serving(tmp_path_factory.mktemp("redis")) as redis_url:
        with deployment({"DIGITS_RATE_LIMIT": f"{LIMIT}/minute",
                         "DIGITS_RATE_LIMIT_STORAGE": redis_url,
                         "DIGITS_TRUSTED_PROXIES": "1"}) as (url, _):
            yield url


def predict(url, key=None, source="127.0.0.1", forwarded_for=None):
    """POST /predict with the test image from a client address on the loopback; (status,
    headers, body)."""
    body = multipart(IMAGE.name, IMAGE.read_bytes())
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    host, port = url.split("://", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30,
                                            source_address=(source, 0))
    try:
        connection.request("POST", "/predict", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def assert_problem(status, headers, body, expected_status, words):
    assert status == expected_status
    assert headers["Content-Type"] == "application/problem+json"
    document = json.loads(body)
    assert document["status"] == expected_status and document["title"]
    assert words in document["detail"]


def test_fifty_slow_clients_do_not_stop_a_fast_clients_answer(keyed):
    url, _, make_key = keyed
    with trickling(url, 50) as slow:
        status, _, body = predict(url, make_key(10))
        assert status == 200 and json.loads(body)["digit"] == int(IMAGE.name[0])
        for connection in slow:  # every slow upload is still being sent, unanswered
            connection.setblocking(False)
            with pytest.raises(BlockingIOError):
                connection.recv(1)


def test_credits_hold_across_both_instances(keyed):
    url, processes, make_key = keyed
    key = make_key(3)
    statuses = [predict(url, key)[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 402]
    # nginx sent requests to both instances, and both spent the one balance
    assert all("POST /predict" in output(process) for process in processes)


def test_the_rate_limit_per_key_holds_across_both_instances(keyed):
    url, _, make_key = keyed
    key = make_key(100)
    statuses = [predict(url, key)[0] for _ in range(LIMIT + 2)]
    assert statuses == [200] * LIMIT + [429] * 2


def test_x_forwarded_for_names_the_address_nginx_saw_not_the_one_a_client_wrote(by_address):
    # a client that writes its own X-Forwarded-For still has one allowance: nginx appends the
    # address it saw, and the service trusts only that last one
    statuses = [predict(by_address, forwarded_for=f"203.0.113.{i}")[0] for i in range(LIMIT + 2)]
    assert statuses == [200] * LIMIT + [429] * 2
    status, headers, body = predict(by_address, forwarded_for="203.0.113.99")
    assert_problem(status, headers, body, 429, "Retry-After")
    # another client address, seen by nginx, has its own allowance
    assert predict(by_address, source="127.0.0.2")[0] == 200


def test_a_body_over_client_max_body_size_is_a_problem_document(by_address):
    too_large = b"x" * (10 * 1024 * 1024 + 1)
    response = requests.post(f"{by_address}/predict", data=too_large,
                             headers={"Content-Type": "image/png"}, timeout=60)
    assert_problem(response.status_code, response.headers, response.content, 413,
                   "request is larger than the 10,485,760 bytes")  # nginx's, not the service's


def test_nginx_own_502_is_a_problem_document():
    with socket.socket() as closed:  # a port nothing listens on: the instance is down
        closed.bind(("127.0.0.1", 0))
        upstream = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with nginx_serving([upstream], ready=False) as url:
        response = requests.get(f"{url}/health", timeout=30)
    assert_problem(response.status_code, response.headers, response.content, 502,
                   "not answering")
    assert response.headers["Retry-After"] == "10"


def test_an_instance_whose_address_drops_connections_is_passed_over_for_the_next():
    """A replica stopped (a rolling restart) leaves an address that drops what is sent to it
    until the upstream group is rewritten: nginx gives up connecting there
    (`proxy_connect_timeout`) and sends the request to the next instance, well within a
    client's patience, instead of waiting for TCP (nginx's own default: 60 s)."""
    gone = ("127.0.0.2", free_port())
    with gunicorn_serving() as live, dropping_connections(*gone):
        with nginx_serving([f"http://{gone[0]}:{gone[1]}", live], ready=False) as url:
            answers = [requests.get(f"{url}/health", timeout=5) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200] * 4


def test_nginx_own_504_is_a_problem_document():
    # an instance that accepts and never answers; the site's 35 s read timeout is cut to 1 s
    # here so the test does not wait for it (the error page is the same)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        site = SITE.read_text().replace("proxy_read_timeout 35s;", "proxy_read_timeout 1s;")
        assert "proxy_read_timeout 1s;" in site
        with nginx_serving([f"http://127.0.0.1:{silent.getsockname()[1]}"], ready=False,
                           site=site) as url:
            response = requests.get(f"{url}/health", timeout=30)
    assert_problem(response.status_code, response.headers, response.content, 504,
                   "longer than 35 seconds")
