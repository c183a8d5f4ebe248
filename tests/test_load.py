"""Short CI variants of bench/load.py against the real gunicorn process (the full run is
`python bench/load.py`, 60 s at 16 connections; see README). They count failures, not time."""

import os
import shutil

import pytest

from bench import load

pytestmark = pytest.mark.server


@pytest.fixture(autouse=True)
def needs_wrk():
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the load tests: install Debian's wrk package")
        pytest.skip("wrk is not installed (apt-get install wrk)")


def test_mixed_valid_and_invalid_uploads_under_load_lose_nothing():
    counts = load.run(duration=5, connections=16)
    assert counts["requests"] > 100
    assert counts["server_errors"] == 0
    assert counts["socket_errors"] == 0 and counts["timeouts"] == 0
    assert counts["answers_as_expected"]


def test_a_worker_killed_under_load_is_replaced_and_costs_one_request_at_most():
    counts = load.run(duration=6, connections=16, kill_after=2)
    assert len(counts["killed"]) == 1
    assert counts["seconds_to_answer_after_kill"] < 1.0
    assert counts["workers_after"] == 2
    assert counts["server_errors"] == 0
    # a sync worker owns one request at a time: only that one may be lost
    assert counts["socket_errors"] + counts["timeouts"] <= 1
    assert counts["answers_as_expected"]
