"""POST /predict/batch: several images in one request; one bad file does not fail the others."""

import io

import pytest

from conftest import TEST_IMAGES


def batch(client, files, query=""):
    """POST (filename, bytes) pairs as the `images` field of one multipart form."""
    return client.post(f"/predict/batch{query}",
                       data={"images": [(io.BytesIO(data), name) for name, data in files]},
                       content_type="multipart/form-data")


def test_every_image_gets_its_prediction_in_order(client):
    files = [(path.name, path.read_bytes()) for path in TEST_IMAGES]
    response = batch(client, files)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [result["filename"] for result in results] == [path.name for path in TEST_IMAGES]
    assert [result["digit"] for result in results] == [int(p.name[0]) for p in TEST_IMAGES]
    single = client.post("/predict", data={"image": (io.BytesIO(files[0][1]), "a")}).get_json()
    assert {key: value for key, value in results[0].items() if key != "filename"} == single


def test_a_bad_file_gets_its_problem_and_the_others_are_answered(client):
    good = TEST_IMAGES[0].read_bytes()
    results = batch(client, [("a.png", good), ("notes.txt", b"not an image"),
                             ("blank.png", blank_png()), ("b.png", good)]).get_json()["results"]
    assert [result["filename"] for result in results] == ["a.png", "notes.txt", "blank.png",
                                                          "b.png"]
    assert results[0]["digit"] == results[3]["digit"] == int(TEST_IMAGES[0].name[0])
    assert results[1]["error"]["status"] == 415
    assert results[1]["error"]["type"] == "tag:digits-service,2026:unsupported-image"
    assert "PNG, JPEG" in results[1]["error"]["detail"]
    assert results[2]["error"]["status"] == 422
    assert set(results[1]["error"]) == {"type", "title", "status", "detail"}


def blank_png():
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("L", (50, 50), 255).save(buffer, "PNG")
    return buffer.getvalue()


def test_top_k_applies_to_every_result(client):
    data = TEST_IMAGES[0].read_bytes()
    results = batch(client, [("a", data), ("b", data)], "?top_k=5").get_json()["results"]
    assert [len(result["top"]) for result in results] == [5, 5]


@pytest.mark.parametrize("make_request, status, words", [
    (lambda c: c.post("/predict/batch", data={}, content_type="multipart/form-data"), 400,
     "file field named 'images'"),
    (lambda c: c.post("/predict/batch", data={"image": (io.BytesIO(b"x"), "a.png")},
                      content_type="multipart/form-data"), 400, "-F images=@a.png"),
    (lambda c: c.post("/predict/batch", json={"images": []}), 415, "multipart/form-data"),
    (lambda c: c.get("/predict/batch"), 405, "use POST"),
    (lambda c: c.post("/predict/batch?top_k=0", data={}), 400, "top_k"),
])
def test_bad_batches_get_a_problem(client, make_request, status, words):
    response = make_request(client)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert words in response.get_json()["detail"]


def test_more_files_than_the_limit_get_413(app):
    app.config["BATCH_MAX_FILES"] = 3
    data = TEST_IMAGES[0].read_bytes()
    response = batch(app.test_client(), [(f"{i}.png", data) for i in range(4)])
    assert response.status_code == 413
    body = response.get_json()
    assert body["type"] == "tag:digits-service,2026:too-many-files"
    assert "4 images; at most 3" in body["detail"]
    assert len(batch(app.test_client(), [(f"{i}.png", data) for i in range(3)])
               .get_json()["results"]) == 3


def test_the_limit_defaults_to_64(app):
    assert app.config["BATCH_MAX_FILES"] == 64


def test_files_left_when_the_time_budget_is_spent_get_503(app):
    """A batch cannot outlast gunicorn's worker timeout (64 images that each declare 40 MP
    would take about 45 s to decode): files not started within DIGITS_BATCH_SECONDS get 503."""
    app.config["BATCH_SECONDS"] = 0
    data = TEST_IMAGES[0].read_bytes()
    results = batch(app.test_client(), [("a", data), ("b", data), ("c", data)]).get_json()[
        "results"]
    assert results[0]["digit"] == int(TEST_IMAGES[0].name[0])  # the first is always answered
    for result in results[1:]:
        assert result["error"]["status"] == 503
        assert result["error"]["type"] == "tag:digits-service,2026:batch-time-exceeded"
        assert "Send the files that were not processed again" in result["error"]["detail"]


def test_the_time_budget_defaults_to_10_seconds(app):
    assert app.config["BATCH_SECONDS"] == 10.0
