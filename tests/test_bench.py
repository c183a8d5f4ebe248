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
    png, jpg = "canvas PNG 280x280", "photo JPEG 800x600"
    results = {("service", png): figures(750, 19.0), ("decode floor", png): figures(1000, 9),
               ("plain resize", png): figures(800, 10),
               ("service", jpg): figures(500, 35.0, errors=2),
               ("decode floor", jpg): figures(500, 16), ("plain resize", jpg): figures(300, 20)}
    memory = {"service": ((300.0, 140.0), (320.0, 160.0), 0.6)}
    met = {text.split(" (")[0]: ok
           for text, ok in run.verdicts(results, memory, [png, jpg], train=59.0)}
    assert met == {
        f"{png}: throughput 0.75x the decode floor": True,
        f"{png}: throughput 0.94x the plain resize": True,
        f"{png}: p99 19.0 ms": True, f"{png}: 0 errors": True,
        f"{jpg}: throughput 1.00x the decode floor": False,
        f"{jpg}: p99 35.0 ms": False, f"{jpg}: 2 errors": False,
        "gunicorn tree PSS at idle, estimator loaded, 140.0 MB": True,
        "cold start 0.60 s": False, "python train.py 59.0 s": True}


def test_the_plain_resize_reference_answers_from_the_same_estimator():
    client = floors.plain_resize().test_client()
    filename, data = run.payloads()[0][1:]
    response = client.post("/predict", data=run.multipart(filename, data),
                           content_type=f"multipart/form-data; boundary={run.BOUNDARY}")
    assert response.status_code == 200
    assert 0 <= response.get_json()["digit"] <= 9
