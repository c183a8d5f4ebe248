"""Every committed test image is predicted as the digit its file name starts with."""

import pytest

from conftest import TEST_IMAGES, post_image


def test_there_are_images_of_each_kind():
    suffixes = {path.suffix for path in TEST_IMAGES}
    assert len(TEST_IMAGES) >= 3 and {".jpg", ".png"} <= suffixes and len(suffixes) >= 3


@pytest.mark.parametrize("path", TEST_IMAGES, ids=[p.name for p in TEST_IMAGES])
def test_each_test_image_is_recognised(client, path):
    response = post_image(client, path.read_bytes(), filename=path.name)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["digit"] == int(path.name[0])
