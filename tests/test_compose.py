"""compose.yaml brought up for real with podman-compose, as a user scales out: nginx in front of
the replicas the file says, Redis and PostgreSQL; tested through nginx, then with a replica
killed, a rolling restart, Redis stopped, PostgreSQL stopped or its host lost outright, and
every name lookup lost (bench/compose.py drives them).

Skipped where podman, podman-compose or the service images are missing; under CI (CI=true)
that is a failure, since `.ci/run` prepares them (../shared/ci/container-engine.sh, then
../shared/ci/service-images.sh).
"""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import yaml

from bench import compose
from conftest import ROOT, TEST_IMAGES

pytestmark = pytest.mark.server

NUMBER = ROOT / "test_images" / "number_3411_canvas.png"


@pytest.fixture(scope="module")
def topology():
    """The topology, up; brought down after the module, leaving nothing of it behind."""
    reason = compose.engine_ready()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the compose topology: {reason}")
        pytest.skip(reason)
    with compose.topology_up() as topology:
        yield topology
    assert topology.leftovers() == []


def served(topology):
    """How many reading requests each replica has logged so far."""
    return [topology.served(name) for name in topology.replicas()]


def test_the_replicas_the_file_says_are_running(topology):
    replicas = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["digits"][
        "deploy"]["replicas"]
    assert len(topology.replicas()) == replicas == 3
    assert all(topology.running(name) for name in topology.replicas())


def test_health_a_digit_and_a_number_are_answered_through_nginx(topology, key):
    assert requests.get(f"{topology.url}/health", timeout=10).json()["status"] == "ok"
    digit = requests.post(f"{topology.url}/predict", headers={"Authorization": f"Bearer {key}"},
                          files={"image": TEST_IMAGES[1].open("rb")}, timeout=10)
    number = requests.post(f"{topology.url}/read", headers={"Authorization": f"Bearer {key}"},
                           files={"image": NUMBER.open("rb")}, timeout=10)
    assert digit.status_code == 200 and digit.json()["digit"] == int(TEST_IMAGES[1].name[0])
    assert number.status_code == 200 and number.json()["number"] == "3411"


def test_a_key_made_in_one_replica_works_on_all_and_its_credits_are_shared(topology):
    key = topology.create_key(30, replica=topology.replicas()[0])
    before = served(topology)
    answers = [compose.post(topology.url, key) for _ in range(30)]
    after = served(topology)
    refused = compose.post(topology.url, key)
    assert [answer.status for answer in answers] == [200] * 30
    assert all(later > earlier for earlier, later in zip(before, after))  # every replica
    assert (refused.status, refused.problem) == (402, True)
    assert topology.credits(key) == 0


def test_the_rate_limit_is_shared_by_every_replica_through_redis(topology):
    allowance = int(compose.RATE_LIMIT.split("/")[0])
    key = topology.create_key(allowance + 10)
    before = served(topology)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: compose.post(topology.url, key), range(allowance)))
    after = served(topology)
    refused = compose.post(topology.url, key)
    assert [answer.status for answer in answers] == [200] * allowance
    assert all(later > earlier for earlier, later in zip(before, after))
    # counted in each worker's memory, every one of the six would allow `allowance` alone
    assert (refused.status, refused.problem) == (429, True) and int(refused.retry_after) > 0


def _image(url, authorization=None, files=None):
    headers = {"Authorization": authorization} if authorization else {}
    return requests.post(f"{url}/predict", files=files or {"image": NUMBER.open("rb")},
                         headers=headers, timeout=30)


ERRORS = {  # what is sent (to nginx's URL, with a valid key) -> the status it must get
    "no key": (401, lambda url, key: _image(url)),
    "an unknown key": (401, lambda url, key: _image(url, "Bearer dg_000000000000_nope")),
    "not an image": (415, lambda url, key: _image(url, f"Bearer {key}",
                                                  {"image": ("a.png", b"not an image")})),
    "an unknown path": (404, lambda url, key: requests.get(f"{url}/nowhere", timeout=10)),
    "a body over nginx's 10 MiB": (413, lambda url, key: requests.post(
        f"{url}/predict", data=b"0" * (11 * 2**20), headers={"Content-Type": "image/png"},
        timeout=30)),
}


@pytest.fixture(scope="module")
def key(topology):
    return topology.create_key(100)


@pytest.mark.parametrize("sent", ERRORS)
def test_every_error_through_nginx_is_a_problem_document(topology, key, sent):
    status, send = ERRORS[sent]
    response = send(topology.url, key)
    assert response.status_code == status
    assert compose.is_problem(response), response.text[:300]


def test_a_killed_replica_fails_only_its_requests_in_flight_and_is_restarted(topology):
    fault = compose.kill_a_replica(topology, compose.load_keys(topology))
    failed = [outcome for outcome in fault.outcomes if outcome.failed]
    assert len(fault.outcomes) > 100
    # at most one request in flight per client, each a 502 problem from nginx, none timed out
    assert len(failed) <= 3 and all(outcome.status == 502 and outcome.problem
                                    for outcome in failed)
    assert fault.recovered_after is not None  # restarted by its policy, and serving again


def test_a_rolling_restart_under_load_fails_no_request(topology):
    fault = compose.rolling_restart(topology, compose.load_keys(topology))
    assert len(fault.outcomes) > 100
    assert [outcome for outcome in fault.outcomes if outcome.failed] == []


@pytest.mark.parametrize("lost", [False, True], ids=["stopped", "host lost outright"])
def test_with_redis_gone_requests_are_served_and_counted_in_redis_again_when_it_is_back(
        topology, lost):
    """Redis stopped, or its host lost outright (nothing answers, nothing resets a connection:
    a count sent on a worker's kept connection waits out its socket timeout, the limiter's
    0.25 s, which tests/test_ratelimit.py checks): either way every request is answered,
    counted in the workers' memory meanwhile, and counted in Redis again once it is back,
    nothing restarted."""
    fault = (compose.redis_host_lost if lost else compose.redis_outage)(
        topology, compose.load_keys(topology, 2), topology.create_key(1000))
    assert len(fault.outcomes) > 10
    assert [outcome for outcome in fault.outcomes if outcome.failed] == []  # fail open
    assert fault.recovered_after is not None  # nothing restarted but Redis


@pytest.mark.parametrize("lost", [False, True], ids=["stopped", "host lost outright"])
def test_with_postgres_gone_keys_get_503_with_retry_after_and_work_again_when_it_is_back(
        topology, lost):
    """PostgreSQL stopped, or its host lost outright (its links down: nothing answers and
    nothing resets a connection, so a statement on a worker's kept connection would wait for
    TCP to give up, minutes, and the client's 10 s pass without an answer): either way each
    request is answered, a 503 problem with Retry-After while it is gone, and the key works
    again once it is back, the ledger balanced."""
    key = topology.create_key(1000)
    before = topology.credits(key)
    fault = (compose.postgres_host_lost if lost else compose.postgres_outage)(topology, key)
    refused = [outcome for outcome in fault.outcomes if outcome.failed]
    answered = [outcome for outcome in fault.outcomes if outcome.status == 200]
    unlike = [outcome for outcome in refused
              if not (outcome.status == 503 and outcome.problem and outcome.retry_after)]
    assert refused and unlike == []  # a refusal that is not a 503 is shown whole when it fails
    assert fault.recovered_after is not None  # back, nothing restarted but PostgreSQL
    assert fault.outcomes[-1].status == 200
    assert before - topology.credits(key) == len(answered)  # none lost, none charged twice


def test_with_every_lookup_lost_a_request_gets_a_503_within_the_clients_bound(topology):
    """A DNS that drops queries while PostgreSQL and Redis restart (podman's aardvark-dns does,
    for a moment): no driver bounds a lookup, and a request hung past the client's 10 s (CI
    saw it once). Each is now a 503 problem with Retry-After, and keys work again from the
    first request once the lookups do, nothing restarted: a worker whose lookup given up on
    still hangs tries again (a probe) rather than refusing until it ends, as CI saw a worker
    refuse keys after PostgreSQL was back."""
    fault = compose.lookups_lost(topology, topology.create_key(1000))
    lost, after = fault.outcomes[:3], fault.outcomes[3:]
    assert [(outcome.status, outcome.problem, bool(outcome.retry_after))
            for outcome in lost] == [(503, True, True)] * 3
    assert fault.recovered_after is not None
    assert [outcome for outcome in after if outcome.status != 200] == []


def test_a_replica_started_while_lookups_are_lost_counts_its_first_requests_in_redis(topology):
    """A fresh replica's workers connect on their first requests, as its container starts, when
    podman's DNS drops lookups. Their first connections to PostgreSQL and Redis go to the
    addresses their gunicorn master found at start: each request is answered and charged, and
    counted in Redis against the key's shared allowance (each worker's first request was
    counted in its own memory, X-RateLimit-Remaining starting again from the limit)."""
    key = topology.create_key(1000)
    before = topology.credits(key)
    fault = compose.fresh_replica_lookups_lost(topology, key)
    remaining = [outcome.remaining for outcome in fault.outcomes]
    assert [outcome.status for outcome in fault.outcomes] == [200] * len(fault.outcomes)
    assert remaining == list(range(remaining[0], remaining[0] - len(remaining), -1))
    assert before - topology.credits(key) == len(fault.outcomes)
