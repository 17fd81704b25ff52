"""Exact box integrals from a summed-volume table, and the rotation path (docs/physics.md D4b)."""

import numpy as np
import pytest

from asldro.acquisition.area_weights import apply_steps, separable_steps
from asldro.acquisition.box_integral import BoxSampler, box_sums, subdivisions
from asldro.acquisition.cumulative import summed_volume


def brute_force_box_integral(array, low, high):
    """Integral of the piecewise-constant array over [low, high] (source index coordinates)."""
    weights = []
    for k in range(3):
        centres = np.arange(array.shape[k])
        overlap = np.minimum(high[k], centres + 0.5) - np.maximum(low[k], centres - 0.5)
        weights.append(np.clip(overlap, 0, None))
    return np.einsum("i,j,k,ijk->", *weights, array)


@pytest.mark.parametrize(
    "integrate", [(True, True, True), (False, True, True), (True, False, False)]
)
def test_box_sums_match_brute_force_integrals(integrate):
    rng = np.random.default_rng(0)
    array = rng.normal(size=(7, 6, 9))
    centres = rng.uniform(-2, 9, size=(3, 50))
    widths = np.array([1.0 if not flag else w for flag, w in zip(integrate, (2.7, 0.4, 4.1))])
    sums = box_sums(summed_volume(array, integrate), centres, widths, integrate)
    # box_sums integrates along the integrated axes and averages along the unit-width ones
    expected = [
        brute_force_box_integral(array, centres[:, i] - widths / 2, centres[:, i] + widths / 2)
        for i in range(50)
    ]
    assert np.allclose(sums, expected, atol=1e-10)


def test_box_sums_read_every_channel():
    rng = np.random.default_rng(1)
    stack = rng.integers(0, 2, size=(5, 6, 7, 3))
    centres = np.array([[2.2], [3.6], [-0.3]])
    widths = np.array([3.9, 3.8, 6.1])
    flags = (True, True, True)
    sums = box_sums(summed_volume(stack), centres, widths, flags)
    for channel in range(3):
        expected = box_sums(summed_volume(stack[..., channel]), centres, widths, flags)
        assert sums[0, channel] == pytest.approx(expected[0], abs=1e-12)


@pytest.mark.parametrize(
    "diagonal, offset",
    [((3.0, 2.5, 4.0), (1.0, 0.75, 1.5)), ((-2.2, 1.0, 0.6), (20.3, -1.2, 0.1))],
)
def test_without_rotation_the_box_path_equals_the_exact_separable_path(diagonal, offset):
    rng = np.random.default_rng(2)
    src_shape, dst_shape = (24, 20, 18), (9, 12, 16)
    voxel_map = np.eye(4)
    voxel_map[:3, :3] = np.diag(diagonal)
    voxel_map[:3, 3] = offset
    array = rng.random(src_shape)
    steps = separable_steps(voxel_map, src_shape, dst_shape, 1e-6)
    assert steps is not None
    exact = apply_steps(array, steps)
    sampler = BoxSampler(voxel_map, src_shape, dst_shape)
    boxed = sampler.average(sampler.table(array))
    assert np.allclose(boxed, exact, atol=1e-10)


def test_rotated_voxels_are_subdivided_until_the_shear_is_small():
    angle = np.radians(5.0)
    linear = np.array(
        [
            [3.0, 0, 0],
            [0, 3.6 * np.cos(angle), -15.75 * np.sin(angle)],
            [0, 3.6 * np.sin(angle), 15.75 * np.cos(angle)],
        ]
    )
    # the long edge leans 15.75 * sin(5 deg) = 1.37 source voxels: three pieces of <= 0.5
    assert subdivisions(linear) == (1, 1, 3)
    assert subdivisions(np.diag([3.0, 3.6, 15.75])) == (1, 1, 1)


def test_rotation_path_keeps_uniform_values_and_the_integral():
    rng = np.random.default_rng(3)
    src_shape, dst_shape = (30, 30, 30), (8, 8, 8)
    angle = np.radians(20.0)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    voxel_map = np.eye(4)
    voxel_map[:3, :3] = rotation @ np.diag([2.5, 2.5, 2.5])
    voxel_map[:3, 3] = np.array([14.5, 14.5, 14.5]) - voxel_map[:3, :3] @ np.full(3, 3.5)
    assert separable_steps(voxel_map, src_shape, dst_shape, 1e-6) is None
    sampler = BoxSampler(voxel_map, src_shape, dst_shape)
    uniform = sampler.average(sampler.table(np.full(src_shape, 3.0)))
    assert np.allclose(uniform[2:6, 2:6, 2:6], 3.0, rtol=1e-12)
    blob = np.zeros(src_shape)
    blob[10:20, 10:20, 10:20] = rng.random((10, 10, 10))
    averaged = sampler.average(sampler.table(blob))
    target_voxel_volume = abs(np.linalg.det(voxel_map[:3, :3]))
    assert averaged.sum() * target_voxel_volume == pytest.approx(blob.sum(), rel=0.01)


def test_unit_width_axes_use_interpolation_with_the_same_result():
    # a rotated grid at the source resolution: every box is one source voxel wide
    rng = np.random.default_rng(4)
    src_shape = (14, 12, 10)
    angle = np.radians(12.0)
    voxel_map = np.eye(4)
    voxel_map[:3, :3] = [
        [np.cos(angle), np.sin(angle), 0],
        [-np.sin(angle), np.cos(angle), 0],
        [0, 0, 1],
    ]
    voxel_map[:3, 3] = (1.3, -0.4, 0.25)
    sampler = BoxSampler(voxel_map, src_shape, src_shape)
    assert sampler.integrate == (False, False, False)
    array = rng.random(src_shape)
    fast = sampler.average(sampler.table(array))
    sampler.integrate = (True, True, True)
    assert np.allclose(fast, sampler.average(sampler.table(array)), atol=1e-12)


def _rotated_sampler(cache=None):
    from asldro.acquisition.motion import motion_matrix
    from asldro.params.types import Motion

    voxel_map = np.linalg.inv(motion_matrix(Motion(rot_z=10.0))) @ np.diag([2.0, 2.0, 2.0, 1.0])
    return BoxSampler(voxel_map, (12, 12, 8), (6, 6, 4), cache)


def test_tables_are_kept_only_by_the_cache_that_owns_them():
    from asldro.acquisition.box_integral import TABLES_KEPT, TableCache

    seg = np.random.default_rng(2).integers(0, 3, size=(12, 12, 8)).astype(np.uint16)
    values = np.array([0.0, 2.0, 5.0])
    uncached = _rotated_sampler()
    assert uncached.lookup_table(seg, values) is not uncached.lookup_table(seg, values)
    cache = TableCache()
    first, second = _rotated_sampler(cache), _rotated_sampler(cache)  # e.g. two motions
    table = first.lookup_table(seg, values)
    assert second.lookup_table(seg, values) is table and not table.flags.writeable
    labels = first.one_hot_table(seg, np.array([0, 1, 2]))
    assert second.one_hot_table(seg, np.array([0, 1, 2])) is labels
    np.testing.assert_array_equal(table, uncached.lookup_table(seg, values))
    for scale in range(TABLES_KEPT["lookup"] + 2):  # bounded: the oldest are dropped
        first.lookup_table(seg, values * (scale + 2))
    assert len(cache.arrays()) == TABLES_KEPT["lookup"] + 1
    cache.clear()
    assert not cache.arrays()


def test_a_table_in_use_is_kept_over_older_ones():
    """The least recently used table is dropped: a multi-PLD series uses its control table in
    every phase and a new label table per phase, so the control table must not be rebuilt."""
    from asldro.acquisition.box_integral import TABLES_KEPT, TableCache

    cache = TableCache()
    seg = np.zeros((4, 4, 4), dtype=np.uint16)
    built = []

    def table(name):
        def build():
            built.append(name)
            return np.zeros(3)

        return cache.table("lookup", (id(seg), name), seg, build)

    control = table("control")
    for phase in range(3 * TABLES_KEPT["lookup"]):
        assert table("control") is control  # used again in every phase
        table(f"label {phase}")
    assert built.count("control") == 1


def test_the_field_of_view_table_is_built_once_for_every_motion():
    """A series with a rotation per volume builds the summed-volume table of the field of view
    once (issue 16 item 2: it was rebuilt for every moved volume); it is the table of an
    all-ones source, so the averages are those of that source."""
    from asldro.acquisition.box_integral import TableCache
    from asldro.acquisition.motion import motion_matrix
    from asldro.acquisition.sampling import Grid, Resampler
    from asldro.params.types import Motion

    cache = TableCache()
    source = np.eye(4)
    target = Grid((6, 5, 4), np.diag([2.0, 2.0, 2.0, 1.0]))
    tables = []
    for angle in (3.0, 7.0):
        resampler = Resampler(
            source, (12, 10, 8), target, motion_matrix(Motion(rot_z=angle)), cache
        )
        sampler = resampler._box_sampler()  # pylint: disable=protected-access  # its tables
        tables.append(sampler.field_of_view_table())
        expected = sampler.average(sampler.table(np.ones((12, 10, 8), dtype=np.bool_)))
        np.testing.assert_array_equal(sampler.average(tables[-1]), expected)
    assert tables[0] is tables[1]


@pytest.mark.parametrize(
    "zooms, angle",
    [
        ((2.0, 2.0, 2.0), 5.0),  # every axis integrated
        ((1.0, 1.0, 3.0), 0.0),  # two unit-width axes (linear interpolation), one integrated
        ((1.0, 1.0, 1.0), 9.0),  # the source resolution, rotated: every axis unit-width
        ((3.0, 1.0, 2.0), 20.0),  # large rotation: three sub-boxes, x unit-width
    ],
)
def test_average_and_inside_is_the_two_passes_bit_for_bit(zooms, angle):
    """Issue 16: the field of view's box averages computed from the first table's lattice
    nodes (its values derived, not read) are the same numbers as reading its own table."""
    from asldro.acquisition.motion import motion_matrix
    from asldro.acquisition.sampling import Grid
    from asldro.params.types import Motion

    rng = np.random.default_rng(16)
    src_shape = (13, 11, 9)
    dst_shape = tuple(max(1, int(n / z)) for n, z in zip(src_shape, zooms))
    target = Grid(dst_shape, np.diag([*zooms, 1.0]))
    voxel_map = motion_matrix(Motion(rot_z=angle, rot_x=angle / 3, transl_y=0.4)) @ target.affine
    sampler = BoxSampler(voxel_map, src_shape, dst_shape)
    channels = rng.random(src_shape + (3,))
    table = sampler.table(channels)
    averages, inside = sampler.average_and_inside(table)
    assert averages.tobytes() == sampler.average(table).tobytes()
    assert inside.tobytes() == sampler.average(sampler.field_of_view_table()).tobytes()
    assert 0.0 < inside.max() <= 1.0 + 1e-12


def test_average_fills_a_given_array_in_place():
    """Issue 16: ``average(table, out)`` writes the averages into ``out`` (no copy) with the
    same numbers as a new array; an array of another shape or dtype is refused."""
    rng = np.random.default_rng(7)
    sampler = BoxSampler(np.diag([2.0, 2.0, 2.0, 1.0]), (8, 6, 4), (4, 3, 2))
    table = sampler.table(rng.random((8, 6, 4, 2)))
    out = np.full((2, 4, 3, 2), np.nan)
    assert sampler.average(table, out) is out
    assert out.tobytes() == sampler.average(table).tobytes()
    with pytest.raises(ValueError, match="out must be float64"):
        sampler.average(table, np.empty((2, 4, 3, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        sampler.average(table, np.empty((2, 4, 3, 2), order="F"))
