"""API keys with credits (optional: DIGITS_API_KEYS): who may call the reading endpoints, and
how many more images each key may send.

A key is shown once, when it is created: `dg_<id>_<secret>`. The database keeps the id, the
secret's sha256 and the credit balance; the secret is compared in constant time. A request
spends one credit per image, taken in one atomic UPDATE, so parallel requests in several
gunicorn workers (or, with PostgreSQL, several machines) can never spend more than the
balance. SQLite is the embedded default; `postgresql://` URLs need psycopg
(requirements-extras.txt).
"""

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import click
from flask import current_app, g, request
from flask.cli import AppGroup

from digits.features.bounded import FoundAtStart, within
from digits.service import signals
from digits.service.config import ConfigError
from digits.service.errors import CreditsExhausted, KeyStoreUnavailable, Unauthorized
from digits.service.problems import KEY_STORE_RETRY_SECONDS

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    credits INTEGER NOT NULL CHECK (credits >= 0),
    created_at TEXT NOT NULL,
    revoked_at TEXT
)"""
_UNKNOWN = hashlib.sha256(b"no such key").hexdigest()  # compared against for unknown ids
CONNECT_SECONDS = 5  # the longest a request waits for the key store before a 503
# How long a connection to the address found at start may take (libpq's least connect_timeout):
# PostgreSQL restarted elsewhere, the old address drops what is sent to it, and the name gets
# the rest of CONNECT_SECONDS instead of nothing.
FOUND_AT_CONNECT_SECONDS = 2

cli = AppGroup("keys", help="Create, refill, revoke and list API keys (DIGITS_DATABASE_URL).")


class Ledger:
    """The keys table of one SQLite or PostgreSQL database."""

    def __init__(self, database_url):
        if database_url.startswith("sqlite:///"):
            self.path = Path(database_url.removeprefix("sqlite:///"))
        elif database_url.startswith(("postgresql://", "postgres://")):
            self.path = None
        else:
            raise ValueError(f"DIGITS_DATABASE_URL={database_url!r}: use sqlite:///path or "
                             "postgresql://user@host/database")
        self.url = database_url
        self._kept = threading.local()  # PostgreSQL: (pid, connection) of this process's thread
        self._found_at = None  # PostgreSQL: FoundAtStart of create_schema's connection

    def create_schema(self):
        """Create the database file (SQLite) and the table if they do not exist yet."""
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # not kept: this runs in gunicorn's master, whose connection the workers must not share
        with self._connect(keep=False) as connection:
            if self.path:
                connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for writers
            connection.execute(SCHEMA)
            if not self.path and _names_one_host(self.url):
                # each worker's first connection goes here without a name lookup: a fresh
                # replica's workers connect as its container starts, when podman's DNS drops
                # queries (a request of CI's rolling restart waited its 5 s for one, then 503)
                self._found_at = FoundAtStart(connection.address)

    def create(self, name, credits):
        """A new key with `credits`; returns (id, the full key). Only the hash is stored."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO api_keys (id, name, secret_sha256, credits, created_at) "
                "VALUES (?, ?, ?, ?, ?)", (key_id, name, _sha256(secret), credits, _now()))
        return key_id, f"dg_{key_id}_{secret}"

    def authenticate(self, authorization):
        """The key id of an `Authorization: Bearer <key>` header; Unauthorized otherwise."""
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthorized("This service needs an API key: send it as "
                               "'Authorization: Bearer <key>'. Ask an administrator for one.")
        _prefix, key_id, secret = (key.strip().split("_", 2) + ["", ""])[:3]
        with self._connect() as connection:
            row = connection.execute("SELECT secret_sha256, revoked_at FROM api_keys "
                                     "WHERE id = ?", (key_id,)).fetchone()
        stored, revoked = row if row else (_UNKNOWN, None)
        if not hmac.compare_digest(stored, _sha256(secret)) or row is None:
            raise Unauthorized("The API key is not valid. Check that it was copied whole, or "
                               "ask an administrator for a new one.")
        if revoked:
            raise Unauthorized(f"The API key {key_id} was revoked on {revoked[:10]}. Ask an "
                               "administrator for a new one.")
        return key_id

    def charge(self, key_id, images):
        """Take `images` credits from the key in one step; CreditsExhausted if it has fewer."""
        with self._connect() as connection:
            taken = connection.execute(
                "UPDATE api_keys SET credits = credits - ? WHERE id = ? AND credits >= ?",
                (images, key_id, images)).rowcount
            if not taken:
                left = connection.execute("SELECT credits FROM api_keys WHERE id = ?",
                                          (key_id,)).fetchone()[0]
        if not taken:
            raise CreditsExhausted(
                f"This request needs {images} credit{'s' * (images != 1)} (one per image) and "
                f"the key {key_id} has {left} left. Ask an administrator to refill it.")

    def refill(self, key_id, credits):
        """Add credits to a key; returns the new balance, None for an unknown id."""
        with self._connect() as connection:
            connection.execute("UPDATE api_keys SET credits = credits + ? WHERE id = ?",
                               (credits, key_id))
            row = connection.execute("SELECT credits FROM api_keys WHERE id = ?",
                                     (key_id,)).fetchone()
        return row[0] if row else None

    def revoke(self, key_id):
        """Revoke a key for good; returns False for an unknown id."""
        with self._connect() as connection:
            return bool(connection.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                (_now(), key_id)).rowcount)

    def list(self):
        """Every key as a dict, without any secret."""
        with self._connect() as connection:
            rows = connection.execute("SELECT id, name, credits, created_at, revoked_at "
                                      "FROM api_keys ORDER BY created_at, id").fetchall()
        return [dict(zip(("id", "name", "credits", "created_at", "revoked_at"), row))
                for row in rows]

    @contextmanager
    def _connect(self, keep=True):
        """A connection in autocommit mode (each statement its own transaction). The drivers are
        imported here: with keys off (the default) a worker never loads them (sqlite3 alone is
        about 1 MB).

        SQLite: a connection of its own, closed when the `with` block ends. PostgreSQL: with
        `keep`, the one this process (and thread) keeps, made after gunicorn's fork and checked
        with a round trip before each use. Connecting afresh twice a request would cost two
        name lookups, TCP handshakes and password exchanges each time, and a name lookup may be
        lost while the container engine reloads its DNS (podman's aardvark-dns 1.4 drops
        queries whenever a container starts or stops).

        Raises KeyStoreUnavailable when the database cannot be reached, or the connection
        breaks, within the block: a request then gets a 503, not a 500; the broken connection
        is dropped and the next request connects afresh, so nothing needs restarting when the
        database is back."""
        if self.path:
            import sqlite3
            unavailable = sqlite3.OperationalError
        else:
            import psycopg
            unavailable = psycopg.OperationalError
        try:
            with self._opened(keep) as connection:
                yield connection
        except unavailable as error:
            self._drop_kept()
            raise KeyStoreUnavailable(
                "The store of API keys and credits cannot be reached right now. Try again in "
                f"{KEY_STORE_RETRY_SECONDS} seconds.") from error

    def _opened(self, keep):
        """The connection `_connect` hands out, as a context manager."""
        if self.path:
            import sqlite3
            return closing(sqlite3.connect(self.path, timeout=30, isolation_level=None))
        return self._kept_connection() if keep else closing(self._new_connection())

    def _new_connection(self, seconds=None):
        """A new PostgreSQL connection; with `seconds`, made within them, its host name's
        lookup included (`bounded.within`: psycopg's `connect_timeout` does not cover the
        lookup), and closed if it comes later; at start and in the admin commands, as long as
        psycopg takes.

        A process's first connection made within `seconds` goes to the address create_schema
        connected to (in gunicorn's master, before the fork), its name not looked up; only
        the first, and only within FOUND_AT_START_SECONDS of the start, since a PostgreSQL
        restarted since may have moved. If that address does not answer within
        FOUND_AT_CONNECT_SECONDS, the name is looked up within what is left of `seconds`.

        Raises psycopg.OperationalError when none can be made (in time)."""
        import psycopg
        # tcp_user_timeout: a statement sent to a server that has vanished fails within the
        # same bound as connecting does, instead of waiting for TCP to give up (minutes)
        connect = partial(psycopg.connect, self.url, autocommit=True,
                          connect_timeout=CONNECT_SECONDS, tcp_user_timeout=CONNECT_SECONDS * 1000)
        if seconds is None:
            return _QmarkConnection(connect())
        deadline = time.monotonic() + seconds
        found_at, self._found_at = self._found_at and self._found_at.current(), None
        if found_at:
            try:
                return _connected_within(seconds, partial(
                    connect, hostaddr=found_at, connect_timeout=FOUND_AT_CONNECT_SECONDS))
            except psycopg.OperationalError:
                pass  # moved, or gone: by name, as any later connection
        return _connected_within(deadline - time.monotonic(), connect)

    @contextmanager
    def _kept_connection(self):
        """This process's kept PostgreSQL connection, made if there is none (or only one
        inherited through a fork, which belongs to the parent) or if the check fails; the
        check and a new connection together take at most CONNECT_SECONDS.

        Raises psycopg.OperationalError when a new one cannot be made."""
        import psycopg
        deadline = time.monotonic() + CONNECT_SECONDS
        pid, connection = getattr(self._kept, "connection", (None, None))
        if pid == os.getpid():
            try:
                connection.execute("SELECT 1")
            except psycopg.OperationalError:
                connection.close()
                pid = None
        if pid != os.getpid():
            connection = self._new_connection(deadline - time.monotonic())
            self._kept.connection = (os.getpid(), connection)
        yield connection

    def _drop_kept(self):
        """Close and forget this process's kept connection, if it has one (one inherited
        through a fork is only forgotten: closing it would end the parent's session)."""
        pid, connection = self._kept.__dict__.pop("connection", (None, None))
        if pid == os.getpid():
            connection.close()


def _connected_within(seconds, connect):
    """What `connect()` returns within `seconds`, wrapped; closed if it comes later.

    Raises psycopg.OperationalError when it fails or does not come in time."""
    import psycopg
    if seconds <= 0:
        raise psycopg.OperationalError("no connection to the key store: no time left")
    try:
        return _QmarkConnection(within(seconds, connect, late=_close,
                                       once="connection to the key store"))
    except TimeoutError as late:  # past the bound, or the last connect still hangs
        raise psycopg.OperationalError(f"no connection to the key store: {late}") from None


def _names_one_host(url):
    """Whether the PostgreSQL URL names a single server by a host name (not an address, not a
    socket folder, not a list of servers): the only kind whose address can be looked up."""
    from psycopg.conninfo import conninfo_to_dict
    host = conninfo_to_dict(url).get("host") or ""
    if not host or "," in host or host.startswith("/"):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False


def _close(connection):
    """Close a connection made after the request that wanted it gave up on it."""
    connection.close()


class _QmarkConnection:
    """A psycopg connection that takes the `?` placeholders the queries here are written with."""

    def __init__(self, connection):
        self.connection = connection

    def execute(self, query, parameters=()):
        return self.connection.execute(query.replace("?", "%s"), parameters)

    @property
    def address(self):
        """The server's address this connection was made to."""
        return self.connection.info.hostaddr

    def close(self):
        self.connection.close()


def register(app, reading):
    """Require a key on the `reading` blueprint's routes (/predict, /read and their batches)
    and charge it one credit per image they accept."""
    ledger = ledger_of(app)
    try:
        ledger.create_schema()
    except KeyStoreUnavailable as error:  # a one-line exit; a restart policy tries again
        raise ConfigError(f"DIGITS_DATABASE_URL: the key store cannot be reached at start "
                          f"({str(error.__cause__).strip()[:200]})") from None
    app.extensions["digits.keys"] = ledger

    # A blueprint's URL-value preprocessors run before every before_request function, the rate
    # limiter's included, so the limiter already knows the key it counts for.
    @reading.url_value_preprocessor
    def authenticate(_endpoint, _values):
        g.api_key = ledger.authenticate(request.headers.get("Authorization"))

    signals.accepted.connect(lambda _app, images: ledger.charge(current_key(), images),
                             sender=app, weak=False)


def current_ledger():
    """The current app's Ledger (API keys on)."""
    return current_app.extensions["digits.keys"]


def current_key():
    """The id of the key the current request was authenticated with; None without one."""
    return g.get("api_key")


def ledger_of(app):
    """The Ledger of the app's DIGITS_DATABASE_URL; ConfigError for an unsupported URL."""
    try:
        return Ledger(app.config["DATABASE_URL"])
    except ValueError as error:
        raise ConfigError(str(error)) from None


@cli.command("create")
@click.option("--name", required=True, help="who the key is for")
@click.option("--credits", type=click.IntRange(min=0), required=True, help="images it may send")
def create_command(name, credits):
    """Create a key and print it (this is the only time it is shown)."""
    ledger = ledger_of(current_app)
    ledger.create_schema()
    key_id, key = ledger.create(name, credits)
    click.echo(f"created key {key_id} for {name!r} with {credits} credits:\n{key}\n"
               "Store it now: only its hash is kept.")


@cli.command("refill")
@click.argument("key_id")
@click.option("--credits", type=click.IntRange(min=1), required=True, help="credits to add")
def refill_command(key_id, credits):
    """Add credits to a key."""
    balance = ledger_of(current_app).refill(key_id, credits)
    if balance is None:
        raise click.ClickException(f"there is no key {key_id!r}; see `keys list`")
    click.echo(f"key {key_id} now has {balance} credits")


@cli.command("revoke")
@click.argument("key_id")
def revoke_command(key_id):
    """Revoke a key: requests with it get 401 from now on."""
    if not ledger_of(current_app).revoke(key_id):
        raise click.ClickException(f"there is no key {key_id!r}; see `keys list`")
    click.echo(f"key {key_id} revoked")


@cli.command("list")
def list_command():
    """List keys: id, name, credits, created, revoked (never a secret)."""
    ledger = ledger_of(current_app)
    ledger.create_schema()
    for key in ledger.list():
        state = f"revoked {key['revoked_at'][:10]}" if key["revoked_at"] else "active"
        click.echo(f"{key['id']}  {key['credits']:>8} credits  {state:<18} "
                   f"{key['created_at'][:10]}  {key['name']}")


def _sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
