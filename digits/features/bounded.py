"""Calls into a driver that may block longer than a request should wait, made in a thread of
this process and given up on at a bound.

What no driver bounds is the host name's lookup before it connects: psycopg's
`connect_timeout` and redis-py's `socket_connect_timeout` start once there is an address, and a
lookup the DNS never answers waits for the resolver's own timeouts (podman's aardvark-dns drops
queries while a container starts: 10 s measured, beside the replicas under compose). The
features that reach a database (keys, rate limits) make those calls through `within`, and
their workers' first connections skip the lookup for a while after the start (`FoundAtStart`).
"""

import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial

# The calls one process may have running at once; more wait in its queue. Two names are used
# (the key store's connection, the Redis lookup), each with at most two calls given up on.
THREADS = 4
# How long a call is waited on while another of its name, given up on, still hangs: long enough
# for a lookup and a connection to a service that is back (tens of milliseconds), short enough
# that a DNS still dead costs a request little.
PROBE_SECONDS = 0.5

# How long an address gunicorn's master looked up as it started stands in for the lookup of its
# name: through the first connections of a container's workers, made as it starts, when podman's
# DNS drops lookups. Past it a server restarted since may have moved (podman gives a container
# started again another address, and the old one drops what is sent to it): a worker forked
# later, or whose first request comes later, looks the name up.
FOUND_AT_START_SECONDS = 30.0

_calls = (None, None)  # (pid, queue of calls): one made before a fork has no threads in the child
_hanging = {}  # (pid, `once` name) -> how many calls of that name given up on still run
_hanging_lock = threading.Lock()  # the counts change in the threads the calls end in
_starting = threading.Lock()


def within(seconds, work, *args, late=None, once=None, **kwargs):
    """What `work(*args, **kwargs)` returns, if it does within `seconds`. Past them it is left
    to end in its thread, and `late`, if given, is called with what it returns then (to close
    a connection no one waits for); a call that had not started yet is dropped, so that calls
    to a dead DNS do not pile up behind each other. `once` names the call: while one of that
    name given up on still runs, the next is a probe, waited on for PROBE_SECONDS at most, and
    while a probe hangs too none is made. So a dead DNS costs the request that found it the
    bound and one request after it the probe, not every request after them; and once the DNS
    answers again (podman's DNS drops queries for a moment while a container starts), the next
    request is answered, not refused until the lookup given up on ends (seconds later).

    Raises TimeoutError past the bound, or at once while two calls named `once` still hang,
    and what `work` raises within the bound."""
    name = (os.getpid(), once)  # a count inherited through a fork is the parent's
    hanging = _hanging.get(name, 0) if once is not None else 0
    if hanging >= 2:
        raise TimeoutError(f"the last {once} given up on, and a probe, have not ended yet")
    if hanging:
        seconds = min(seconds, PROBE_SECONDS)
    made = _submit(work, *args, **kwargs)
    try:
        return made.result(timeout=max(0.0, seconds))
    except TimeoutError:
        if made.done():  # it ended as the wait did, or raised TimeoutError itself
            return made.result()
        if not made.cancel():
            if once is not None:
                _count_hanging(name, +1)
                made.add_done_callback(partial(_ended, name))
            if late is not None:
                made.add_done_callback(partial(_hand_over, late))
        raise TimeoutError(f"no answer within {seconds:.2f} s") from None


def _count_hanging(name, change):
    """Add `change` to the calls of `name` given up on that still run."""
    with _hanging_lock:
        count = _hanging.get(name, 0) + change
        if count:
            _hanging[name] = count
        else:
            del _hanging[name]


def _ended(name, _made):
    """A call given up on has ended: one fewer of its name hangs."""
    _count_hanging(name, -1)


def _hand_over(late, made):
    """Give what a call given up on returned to `late` (nothing when it raised)."""
    if made.exception() is None:
        late(made.result())


def _submit(work, *args, **kwargs):
    """A Future of `work(*args, **kwargs)`, called in one of this process's THREADS threads
    (made on first use in it) unless cancelled before one takes it.

    The threads are daemons, unlike a ThreadPoolExecutor's, which the interpreter waits for
    as it exits: a gunicorn worker leaving (recycled after max_requests, or stopped) while a
    lookup it gave up on still hangs would wait out the resolver's timeouts first (10 s and
    more), still counted among the workers, so that none replaced it meanwhile."""
    global _calls
    with _starting:  # a threaded server's requests may make the first calls at once
        pid, calls = _calls
        if pid != os.getpid():
            calls = queue.SimpleQueue()
            for index in range(THREADS):
                threading.Thread(target=_serve, args=(calls,), name=f"bounded-{index}",
                                 daemon=True).start()
            _calls = (os.getpid(), calls)
    made = Future()
    calls.put((made, work, args, kwargs))
    return made


def _serve(calls):
    """Run the calls put on `calls`, one after another, each into its Future; forever."""
    while True:
        made, work, args, kwargs = calls.get()
        if not made.set_running_or_notify_cancel():  # given up on before it started
            continue
        try:
            result = work(*args, **kwargs)
        except BaseException as error:  # handed to whoever waits, as an executor does
            made.set_exception(error)
        else:
            made.set_result(result)


@dataclass(frozen=True)
class FoundAtStart:
    """A server's address looked up as the process started, and when (time.monotonic())."""

    address: str
    at: float = field(default_factory=time.monotonic)

    def current(self):
        """The address while FOUND_AT_START_SECONDS have not passed since it was found, else
        None (look the name up)."""
        return self.address if time.monotonic() - self.at < FOUND_AT_START_SECONDS else None
