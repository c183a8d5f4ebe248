"""Calls a request waits for no longer than a bound (`digits.features.bounded.within`): the
host name lookups of the key store and the rate limits' Redis, which no driver bounds."""

import os
import subprocess
import sys
import threading

import pytest

from conftest import ROOT
from digits.features import bounded


def test_a_call_within_the_bound_gives_what_it_returns_or_raises():
    assert bounded.within(5, pow, 2, 10) == 1024
    with pytest.raises(ZeroDivisionError):
        bounded.within(5, lambda: 1 / 0)


def test_a_call_past_the_bound_is_given_up_on_and_what_it_returns_late_handed_over():
    release, handed = threading.Event(), []
    late = threading.Event()

    def slow():
        release.wait(10)
        return "connection"

    with pytest.raises(TimeoutError):
        bounded.within(0.05, slow, late=lambda value: (handed.append(value), late.set()))
    given_up_while_running = not release.is_set() and not handed
    release.set()
    assert given_up_while_running and late.wait(10) and handed == ["connection"]


def test_calls_that_could_not_start_while_others_hang_are_dropped_not_run_later():
    """With a dead DNS every thread may hang on a lookup; calls queued behind them are dropped
    when given up on, so that they do not pile up and run long after anyone waits for them."""
    release, started = threading.Event(), threading.Semaphore(0)
    ran = []

    def hang():
        started.release()
        release.wait(10)

    for _ in range(bounded.THREADS):
        with pytest.raises(TimeoutError):
            bounded.within(0.01, hang)
    for _ in range(bounded.THREADS):
        assert started.acquire(timeout=10)  # every thread is taken
    with pytest.raises(TimeoutError):
        bounded.within(0.01, ran.append, "queued")
    release.set()
    assert bounded.within(10, ran.append, "after") is None  # the threads are free again
    assert ran == ["after"]


def _until_none_hang(name, seconds=10):
    """Whether every call named `name` given up on has ended within `seconds` (each end is
    counted from its own thread)."""
    pause = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if bounded._hanging.get((os.getpid(), name)) is None:
            return True
        pause.wait(0.01)
    return False


def test_while_a_named_call_hangs_the_next_is_a_short_probe_and_none_while_that_hangs_too():
    """A dead DNS costs the request that finds it the bound, and one after it a probe
    (PROBE_SECONDS); the requests after those are told at once, until a hanging call ends."""
    release, calls = threading.Event(), []

    def lookup():
        calls.append("lookup")
        release.wait(10)
        return "address"

    with pytest.raises(TimeoutError, match="no answer within 0.01 s"):
        bounded.within(0.01, lookup, once="lookup of redis")
    with pytest.raises(TimeoutError, match=f"no answer within {bounded.PROBE_SECONDS:.2f} s"):
        bounded.within(10, lookup, once="lookup of redis")  # waited on for the probe's time
    with pytest.raises(TimeoutError, match="have not ended yet"):
        bounded.within(10, lookup, once="lookup of redis")
    other = bounded.within(10, str, "another name", once="lookup of postgres")
    made_while_hanging = list(calls)
    release.set()
    assert made_while_hanging == ["lookup", "lookup"] and other == "another name"
    assert _until_none_hang("lookup of redis")
    assert bounded.within(10, lookup, once="lookup of redis") == "address"
    assert calls == ["lookup"] * 3


def test_a_service_back_while_a_call_given_up_on_still_hangs_answers_the_next_call():
    """podman's DNS drops a lookup while PostgreSQL starts again; the lookup given up on hangs
    for the resolver's timeouts, seconds after PostgreSQL is back. The next connection is made
    meanwhile (a probe), not refused until the lost lookup ends: CI saw a worker refuse keys
    after the others worked again."""
    lost, answered = threading.Event(), []

    def lookup(dropped):
        if dropped:
            lost.wait(10)
        answered.append(dropped)
        return "address"

    with pytest.raises(TimeoutError):
        bounded.within(0.01, lookup, True, once="lookup of postgres")
    assert bounded.within(10, lookup, False, once="lookup of postgres") == "address"
    assert not lost.is_set() and answered == [False]  # answered while the lost one still hangs
    lost.set()
    assert _until_none_hang("lookup of postgres")


def test_a_process_exits_without_waiting_for_a_call_it_gave_up_on():
    """A gunicorn worker recycled or stopped while a lookup it gave up on still hangs leaves at
    once: the calls' threads are daemons (a ThreadPoolExecutor's are joined at exit, and the
    worker waited out the resolver's timeouts, still counted among the workers)."""
    program = ("import threading\n"
               "from digits.features import bounded\n"
               "try:\n"
               "    bounded.within(0.01, threading.Event().wait, once='lookup of postgres')\n"
               "except TimeoutError:\n"
               "    print('given up')\n")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # a guard: the call it gave up on never ends
    assert (done.returncode, done.stdout) == (0, "given up\n")
