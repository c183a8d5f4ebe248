"""digits.binary: the numpy image operations give scipy.ndimage's results exactly.

The service does not import scipy (to save memory); scipy is still installed with
scikit-learn, so the tests use it as the reference.
"""

import numpy as np
import pytest
from scipy import ndimage

from digits import binary


def random_masks(count=60, seed=0):
    """Boolean images of many sizes and densities: noise, and blobs grown from it."""
    rng = np.random.default_rng(seed)
    masks = []
    for index in range(count):
        height, width = rng.integers(1, 70, 2)
        mask = rng.random((height, width)) < rng.uniform(0.02, 0.7)
        masks.append(ndimage.binary_dilation(mask, iterations=2) if index % 3 == 0 else mask)
    return masks


@pytest.mark.parametrize("mask", random_masks())
def test_signed_depth_is_the_clipped_exact_distance_transform(mask):
    padded = np.pad(mask, 2)
    padded[0, 0] = False
    padded[-1, -1] = True
    expected = (np.minimum(ndimage.distance_transform_edt(padded), 4.5)
                - np.minimum(ndimage.distance_transform_edt(~padded), 13.0))
    assert np.allclose(binary.signed_depth(padded, inside=4.5, outside=13.0), expected,
                       rtol=0, atol=1e-12)


@pytest.mark.parametrize("mask", random_masks())
def test_run_filters_are_ndimages_one_dimensional_max_and_min(mask):
    for axis in (0, 1):
        assert np.array_equal(binary.grow(mask, axis),
                              ndimage.maximum_filter1d(mask, 3, axis=axis))
        for size in (1, 2, 5, 40, 150):  # longer than the image too: edges mirror repeatedly
            assert np.array_equal(binary.run_max(mask, size, axis),
                                  ndimage.maximum_filter1d(mask, size, axis=axis))
            assert np.array_equal(binary.run_min(mask, size, axis),
                                  ndimage.minimum_filter1d(mask, size, axis=axis))


@pytest.mark.parametrize("mask", random_masks())
def test_components_are_ndimages_eight_connected_labels(mask):
    expected, count = ndimage.label(mask, structure=np.ones((3, 3)))
    labels, areas = binary.component_areas(mask)
    assert len(areas) == count and labels.max() == count
    assert ((labels > 0) == mask).all()
    for component in range(1, count + 1):  # the same partition, whatever the numbering
        mine = np.unique(labels[expected == component])
        assert len(mine) == 1 and areas[mine[0] - 1] == (expected == component).sum()
    assert binary.count_runs(mask[0]) == ndimage.label(mask[0])[1]


def test_components_of_an_empty_image():
    labels, areas = binary.component_areas(np.zeros((4, 5), dtype=bool))
    assert not labels.any() and len(areas) == 0


def test_a_checkerboard_is_one_component():
    board = np.indices((160, 160)).sum(axis=0) % 2 == 0
    _, areas = binary.component_areas(board)
    assert list(areas) == [160 * 80]


@pytest.mark.parametrize("slant", [-1.0, -0.37, 0.0, 0.5, 0.93])
@pytest.mark.parametrize("mask", random_masks(count=12, seed=1))
def test_shear_rows_is_ndimages_linear_affine_transform(mask, slant):
    image = mask.astype(np.float32)
    centre = mask.shape[0] / 3
    expected = ndimage.affine_transform(image, [[1, 0], [slant, 1]],
                                        offset=(0, -slant * centre), order=1)
    assert np.allclose(binary.shear_rows(image, slant, centre), expected, rtol=0, atol=1e-6)
