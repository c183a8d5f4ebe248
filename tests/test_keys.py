"""API keys with credits (DIGITS_API_KEYS): 401 without a valid key, 402 when the credits are
spent, keys stored as hashes, the admin CLI, and no double spending across gunicorn workers;
each with SQLite (the default) and PostgreSQL."""

import io
import re
import secrets
import socket
import threading
from types import SimpleNamespace

import pytest

from conftest import (TEST_IMAGES, PostgresServer, create_key, dropping_connections,
                      free_port, gunicorn_serving, parallel_predictions)
from digits.features import bounded, keys
from digits.service.config import ConfigError
from digits.service.errors import KeyStoreUnavailable
from service import create_app


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A fresh, empty database URL of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    import psycopg
    server, name = request.getfixturevalue("postgres"), f"keys_{secrets.token_hex(4)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@pytest.fixture
def keyed(database):
    """An app with API keys on, over a fresh database."""
    return create_app({"TESTING": True, "API_KEYS": True, "DATABASE_URL": database})


def post(client, key=None, images=1, path="/predict"):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    field = "images" if path.endswith("/batch") else "image"
    files = [(io.BytesIO(TEST_IMAGES[0].read_bytes()), f"{i}.png") for i in range(images)]
    return client.post(path, data={field: files if images > 1 else files[0]}, headers=headers,
                       content_type="multipart/form-data")


@pytest.mark.parametrize("authorization, words", [
    (None, "needs an API key"),
    ("Basic dXNlcjpwYXNz", "needs an API key"),
    ("Bearer ", "needs an API key"),
    ("Bearer dg_000000000000_wrong", "not valid"),
    ("Bearer nonsense", "not valid"),
])
def test_requests_without_a_valid_key_get_401(keyed, authorization, words):
    headers = {"Authorization": authorization} if authorization else {}
    response = keyed.test_client().post("/predict", headers=headers,
                                        data={"image": (io.BytesIO(b"x"), "a.png")})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert words in response.get_json()["detail"]


def test_a_right_id_with_a_wrong_secret_is_refused(keyed):
    key_id, key = create_key(keyed, 5)
    assert post(keyed.test_client(), key[:-1] + ("A" if key[-1] != "A" else "B")).status_code == 401
    assert post(keyed.test_client(), key).status_code == 200


def test_each_image_spends_one_credit_then_402(keyed):
    key_id, key = create_key(keyed, 3)
    client = keyed.test_client()
    assert post(client, key).status_code == 200
    assert post(client, key, images=2, path="/predict/batch").status_code == 200
    spent = post(client, key)
    assert spent.status_code == 402
    assert spent.get_json()["type"] == "tag:digits-service,2026:credits-exhausted"
    assert f"the key {key_id} has 0 left" in spent.get_json()["detail"]


def test_read_spends_one_credit_per_image_too(keyed):
    _, key = create_key(keyed, 3)
    client = keyed.test_client()
    assert post(client, path="/read").status_code == 401
    assert post(client, key, path="/read").status_code == 200
    assert post(client, key, images=2, path="/read/batch").status_code == 200
    assert post(client, key, path="/read").status_code == 402


def test_a_batch_needs_credits_for_all_its_images(keyed):
    _, key = create_key(keyed, 2)
    response = post(keyed.test_client(), key, images=3, path="/predict/batch")
    assert response.status_code == 402
    assert "needs 3 credits" in response.get_json()["detail"]
    assert post(keyed.test_client(), key, images=2, path="/predict/batch").status_code == 200


def test_a_request_refused_before_any_image_is_read_costs_nothing(keyed):
    _, key = create_key(keyed, 1)
    client = keyed.test_client()
    no_file = client.post("/predict", data={}, headers={"Authorization": f"Bearer {key}"})
    assert no_file.status_code == 400
    assert post(client, key).status_code == 200


def test_other_endpoints_need_no_key(keyed):
    client = keyed.test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/model").status_code == 200


def test_only_a_hash_of_the_key_is_stored(keyed):
    key_id, key = create_key(keyed, 1)
    secret = key.split("_", 2)[2]
    with keyed.app_context(), keys.current_ledger()._connect() as connection:
        rows = connection.execute("SELECT * FROM api_keys").fetchall()
    stored = repr(rows)
    assert key_id in stored and secret not in stored and key not in stored


def test_cli_refill_revoke_and_list(keyed):
    runner = keyed.test_cli_runner()
    key_id, key = create_key(keyed, 0, name="alice")
    assert post(keyed.test_client(), key).status_code == 402
    refill = runner.invoke(args=["keys", "refill", key_id, "--credits", "2"])
    assert refill.exit_code == 0 and "now has 2 credits" in refill.output
    assert post(keyed.test_client(), key).status_code == 200
    listing = runner.invoke(args=["keys", "list"]).output
    assert re.search(rf"{key_id}\s+1 credits\s+active .* alice", listing)
    assert key.split("_", 2)[2] not in listing
    assert runner.invoke(args=["keys", "revoke", key_id]).exit_code == 0
    revoked = post(keyed.test_client(), key)
    assert revoked.status_code == 401 and "revoked" in revoked.get_json()["detail"]
    assert "revoked" in runner.invoke(args=["keys", "list"]).output


@pytest.mark.parametrize("args", [["refill", "nope", "--credits", "1"], ["revoke", "nope"]])
def test_cli_names_an_unknown_key(keyed, args):
    result = keyed.test_cli_runner().invoke(args=["keys", *args])
    assert result.exit_code != 0 and "there is no key 'nope'" in result.output


def test_keys_are_off_by_default(client):
    assert post(client).status_code == 200


def test_an_unsupported_database_url_refuses_to_start():
    with pytest.raises(ConfigError, match="use sqlite:///path or postgresql://"):
        create_app({"API_KEYS": True, "DATABASE_URL": "mysql://db/digits"})


@pytest.mark.server
def test_parallel_requests_never_spend_more_than_the_balance(database):
    """20 parallel requests against 7 credits, over 2 gunicorn workers: exactly 7 succeed."""
    _, key = create_key(create_app({"API_KEYS": True, "DATABASE_URL": database}), 7)
    with gunicorn_serving({"DIGITS_API_KEYS": "true", "DIGITS_DATABASE_URL": database},
                          workers=2) as url:
        statuses = parallel_predictions(url, 20, TEST_IMAGES[0].read_bytes(),
                                        headers={"Authorization": f"Bearer {key}"}, threads=20)
    assert sorted(statuses) == [200] * 7 + [402] * 13


def test_with_postgresql_gone_a_request_gets_a_503_problem_and_keys_work_again_when_it_is_back():
    """No 500 and no traceback while the key store is down; nothing to restart afterwards; the
    ledger takes exactly one credit per answered image across the outage."""
    server = PostgresServer()
    try:
        app = create_app({"TESTING": True, "API_KEYS": True,
                          "DATABASE_URL": f"{server.url}/postgres"})
        client = app.test_client()
        _, key = create_key(app, 10)
        assert post(client, key).status_code == 200
        server.stop()
        down = [post(client, key) for _ in range(3)]
        server.start()
        back = [post(client, key) for _ in range(2)]
        with app.app_context():
            [balance] = [row["credits"] for row in keys.current_ledger().list()]
    finally:
        server.remove()
    for response in down:
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["type"].endswith("key-store-unavailable")
        assert "Traceback" not in response.get_data(as_text=True)
    assert [response.status_code for response in back] == [200, 200]
    assert balance == 10 - 3  # the three answered images, none of the refused ones


def test_a_request_waits_for_a_new_key_store_connection_no_longer_than_its_bound(monkeypatch):
    """A connect that hangs (under compose, a name lookup the engine's DNS dropped while
    PostgreSQL restarted held a request 10 s, past the client's bound) is given up on after
    CONNECT_SECONDS with a 503's error, while it is still hanging; the connection it makes
    late is closed."""
    psycopg = pytest.importorskip("psycopg")
    release, closed = threading.Event(), threading.Event()

    class LateConnection:
        def close(self):
            closed.set()

    def hanging_connect(*_args, **_kwargs):
        release.wait(10)
        return LateConnection()

    monkeypatch.setattr(psycopg, "connect", hanging_connect)
    monkeypatch.setattr(keys, "CONNECT_SECONDS", 0.1)
    ledger = keys.Ledger("postgresql://digits@postgres/digits")
    with pytest.raises(KeyStoreUnavailable):
        ledger.list()
    hanging = not release.is_set() and not closed.is_set()
    release.set()
    assert hanging and closed.wait(10)


def test_checking_the_kept_connection_and_making_a_new_one_share_one_bound(monkeypatch):
    """The kept connection's check failing late leaves the new connection only the rest of
    CONNECT_SECONDS, not CONNECT_SECONDS again."""
    psycopg = pytest.importorskip("psycopg")
    clock, given = [100.0], []

    class Broken:
        def execute(self, _query):
            clock[0] += keys.CONNECT_SECONDS - 1  # the server vanished: tcp_user_timeout
            raise psycopg.OperationalError("server closed the connection unexpectedly")

        def close(self):
            pass

    ledger = keys.Ledger("postgresql://digits@postgres/digits")
    ledger._kept.connection = (keys.os.getpid(), Broken())
    monkeypatch.setattr(keys, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(ledger, "_new_connection", lambda seconds=None: given.append(seconds))
    with ledger._kept_connection():
        pass
    assert given == [1.0]


def lookups_dropped(monkeypatch):
    """From now on every host name lookup fails as one the DNS dropped would; returns the names
    asked for."""
    asked = []

    def dropped(host, *_args, **_kwargs):
        asked.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", dropped)
    return asked


def test_a_workers_first_connection_goes_where_the_schema_was_made_without_a_lookup(
        monkeypatch):
    """A fresh replica's workers connect as its container starts, while podman's DNS drops
    lookups (a request of CI's rolling restart waited 5 s for one, then got a 503): the first
    connection goes to the address found at start; the next looks the name up again, since a
    PostgreSQL restarted meanwhile may have moved."""
    server = PostgresServer()
    try:
        ledger = keys.Ledger(f"postgresql://postgres@localhost:{server.port}/postgres")
        ledger.create_schema()  # in gunicorn's master, before the fork
        asked = lookups_dropped(monkeypatch)
        first = ledger.list()
        server.stop()
        server.start()
        with pytest.raises(KeyStoreUnavailable):
            ledger.list()
    finally:
        server.remove()
    assert first == [] and asked == ["localhost"]


def test_an_address_found_at_start_that_no_longer_answers_is_looked_up_again(monkeypatch):
    server = PostgresServer()
    try:
        ledger = keys.Ledger(f"postgresql://postgres@localhost:{server.port}/postgres")
        ledger.create_schema()
        # nothing listens there
        monkeypatch.setattr(ledger, "_found_at", bounded.FoundAtStart("127.0.0.2"))
        keys_listed = ledger.list()
    finally:
        server.remove()
    assert keys_listed == []


def test_an_address_found_at_start_that_drops_connections_leaves_the_name_time(monkeypatch):
    """PostgreSQL restarted since the start, at another address: under compose the first
    connection to the old one waited out the request's whole 5 s (503). It is given up on
    after FOUND_AT_CONNECT_SECONDS, and the name gets the rest."""
    server = PostgresServer()
    try:
        ledger = keys.Ledger(f"postgresql://postgres@localhost:{server.port}/postgres")
        ledger.create_schema()
        monkeypatch.setattr(ledger, "_found_at", bounded.FoundAtStart("127.0.0.2"))
        with dropping_connections("127.0.0.2", server.port):
            keys_listed = ledger.list()
    finally:
        server.remove()
    assert keys_listed == []


def test_an_address_found_longer_ago_than_the_start_s_bound_is_not_used(monkeypatch):
    """A worker forked, or first asked, long after the start (recycled after max_requests, a
    quiet replica) looks the name up: PostgreSQL may have moved since."""
    server = PostgresServer()
    try:
        ledger = keys.Ledger(f"postgresql://postgres@localhost:{server.port}/postgres")
        ledger.create_schema()
        monkeypatch.setattr(bounded, "FOUND_AT_START_SECONDS", 0.0)
        asked = lookups_dropped(monkeypatch)
        with pytest.raises(KeyStoreUnavailable):
            ledger.list()
    finally:
        server.remove()
    assert asked == ["localhost"]


@pytest.mark.parametrize("host", ["127.0.0.1", "/var/run/postgresql", "a.example,b.example"])
def test_only_a_single_host_name_is_worth_remembering_an_address_for(host):
    assert not keys._names_one_host(f"postgresql://digits@/digits?host={host}")
    assert keys._names_one_host("postgresql://digits@postgres:5432/digits")


def test_a_key_store_unreachable_at_start_stops_the_service_with_one_line(tmp_path):
    with pytest.raises(ConfigError, match="the key store cannot be reached at start"):
        create_app({"API_KEYS": True,
                    "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/keys"})
