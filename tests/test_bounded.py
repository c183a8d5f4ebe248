"""Calls a request waits for no longer than a bound (`digits.features.bounded.within`): the
host name lookups of the key store and the rate limits' Redis, which no driver bounds."""

import threading

import pytest

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


def test_a_named_call_is_not_made_again_while_the_last_one_given_up_on_still_hangs():
    """A dead DNS costs the request that finds it the bound; the requests after it are told at
    once, until the hanging call ends, and then it is made again."""
    release, calls = threading.Event(), []

    def lookup():
        calls.append("lookup")
        release.wait(10)
        return "address"

    with pytest.raises(TimeoutError):
        bounded.within(0.01, lookup, once="lookup of redis")
    with pytest.raises(TimeoutError, match="has not ended yet"):
        bounded.within(10, lookup, once="lookup of redis")
    other = bounded.within(10, str, "another name", once="lookup of postgres")
    made_while_hanging = list(calls)
    release.set()
    ended, pause = threading.Event(), threading.Event()
    for _ in range(1000):  # the hanging call's end clears its name, from its own thread
        if bounded._hanging.get("lookup of redis") is None:
            ended.set()
            break
        pause.wait(0.01)
    assert made_while_hanging == ["lookup"] and other == "another name" and ended.is_set()
    assert bounded.within(10, lookup, once="lookup of redis") == "address"
    assert calls == ["lookup", "lookup"]
