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
