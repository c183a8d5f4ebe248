"""The benchmark's parts (it times nothing here): the floors answer like the service does, and
the multipart body it sends is a valid upload."""

import pytest

from bench import floors, run
from service import create_app


@pytest.mark.parametrize("name", ["flask_floor", "decode_floor"])
def test_the_floors_read_the_upload_and_answer_fixed_json(name):
    client = getattr(floors, name)().test_client()
    filename, data = run.payloads()[0][1:]
    response = client.post("/predict", data=run.multipart(filename, data),
                           content_type=f"multipart/form-data; boundary={run.BOUNDARY}")
    assert response.status_code == 200
    assert response.get_json() == floors.ANSWER


def test_the_decode_floor_really_decodes():
    client = floors.decode_floor().test_client()
    response = client.post("/predict", data=run.multipart("x.png", b"not an image"),
                           content_type=f"multipart/form-data; boundary={run.BOUNDARY}")
    assert response.status_code == 500


@pytest.mark.parametrize("index", [0, 1], ids=["canvas", "photo"])
def test_the_benchmark_payloads_are_read_by_the_service(index):
    client = create_app().test_client()
    _, filename, data = run.payloads()[index]
    response = client.post("/predict", data=run.multipart(filename, data),
                           content_type=f"multipart/form-data; boundary={run.BOUNDARY}")
    assert response.status_code == 200
    assert 0 <= response.get_json()["digit"] <= 9


def test_the_verdicts_compare_each_figure_with_its_target():
    def figures(rps, p99, errors=0):
        return {"rps": rps, "p50_ms": p99 / 2, "p99_ms": p99, "errors": errors}
    results = {("service", "png"): figures(950, 19.0), ("decode floor", "png"): figures(1000, 9),
               ("service", "jpg"): figures(300, 35.0, errors=2),
               ("decode floor", "jpg"): figures(800, 16)}
    memory = {"service": ((120.0, 50.0), (151.0, 90.0), 0.3)}
    met = {text.split(" (")[0]: ok for text, ok in run.verdicts(results, memory, ["png", "jpg"])}
    assert met == {
        "png: throughput 0.95x the decode floor": True, "png: p99 19.0 ms": True,
        "png: 0 errors": True, "jpg: throughput 0.38x the decode floor": False,
        "jpg: p99 35.0 ms": False, "jpg: 2 errors": False,
        "gunicorn tree RSS after load 151.0 MB": False, "cold start 0.30 s": True}


@pytest.mark.parametrize("index", [0, 1], ids=["canvas", "photo"])
def test_the_profile_times_the_services_own_path(app, index):
    """bench/profile.py's chain of steps ends where upload_to_pixels and the network do."""
    import numpy as np

    from bench import profile
    from digits.model import probabilities
    from digits.preprocess import upload_to_pixels
    estimator, data = app.extensions["digits.model"], run.payloads()[index][2]
    value = None
    for _, step in profile.steps(data, estimator):
        value = step(value)
    expected = probabilities(estimator, upload_to_pixels(data))
    assert np.array_equal(value, expected)
