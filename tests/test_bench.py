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
