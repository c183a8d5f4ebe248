"""Every committed test image is read as its file name says: a digit by POST /predict (and the
same digit by POST /read), a number by POST /read."""

import pytest

from conftest import NUMBER_IMAGES, TEST_IMAGES, post_image


def test_there_are_images_of_each_kind():
    suffixes = {path.suffix for path in TEST_IMAGES}
    assert len(TEST_IMAGES) >= 3 and {".jpg", ".png"} <= suffixes and len(suffixes) >= 3
    kinds = {path.stem.split("_")[2] for path in NUMBER_IMAGES}
    assert {"photo", "scan", "canvas"} <= kinds


@pytest.mark.parametrize("path", TEST_IMAGES, ids=[p.name for p in TEST_IMAGES])
def test_each_test_image_is_recognised_and_read_as_a_number_of_one_digit(client, path):
    response = post_image(client, path.read_bytes(), filename=path.name)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["digit"] == int(path.name[0])
    # the showcase a newcomer runs first is read surely (docs/api.md shows these answers)
    assert not response.get_json()["uncertain"], response.get_json()["confidence"]
    read = post_image(client, path.read_bytes(), filename=path.name, path="/read").get_json()
    assert read["number"] == path.name[0]
    assert read["digits"][0]["probabilities"] == response.get_json()["probabilities"]


@pytest.mark.parametrize("path", NUMBER_IMAGES, ids=[p.name for p in NUMBER_IMAGES])
def test_each_number_image_is_read_and_refused_by_predict(client, path):
    number = path.stem.split("_")[1]
    response = post_image(client, path.read_bytes(), filename=path.name, path="/read")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["number"] == number
    assert not response.get_json()["uncertain"], response.get_json()["confidence"]
    refused = post_image(client, path.read_bytes(), filename=path.name)
    assert refused.status_code == 422
    assert refused.get_json()["type"].endswith("several-digits")
    assert f"holds {len(number)} digits" in refused.get_json()["detail"]
