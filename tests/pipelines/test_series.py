"""Series pipelines: determinism, seeding, metadata and the physics seen through the pipeline."""

import math

import numpy as np
import pytest

from asldro.params import default_params, load_params
from asldro.pipelines import generate_series, provenance
from asldro.pipelines.seeds import label_key, seed_sequence

#: Uniform tissue values of the small hand-made ground truths.
TISSUE = {"perfusion_rate": 60.0, "transit_time": 0.8, "t1": 1.3, "t2": 0.08, "t2_star": 0.05}


def _asl_params(**overrides):
    doc = default_params()
    parameters = {"acq_matrix": [32, 32, 12], **overrides}
    doc["image_series"] = [{"series_type": "asl", "series_parameters": parameters}]
    return load_params(doc)


def test_same_inputs_give_bit_identical_arrays(gt3t):
    params = load_params(default_params())
    first = generate_series(params, gt3t, participant_label="01")
    second = generate_series(params, gt3t, participant_label="01")
    for a, b in zip(first, second):
        for name in a.images:
            assert a.images[name].data.tobytes() == b.images[name].data.tobytes()


def test_participants_and_seeds_give_different_noise(gt3t):
    params = _asl_params()
    one = generate_series(params, gt3t, participant_label="01")[0].images["asl"].data
    two = generate_series(params, gt3t, participant_label="02")[0].images["asl"].data
    reseeded = generate_series(params, gt3t, participant_label="01", seed=7)[0].images["asl"].data
    assert not np.array_equal(one, two)
    assert not np.array_equal(one, reseeded)


def test_seed_streams_are_independent_of_python_hash():
    assert label_key("01") == 0x3031
    assert label_key("01") != label_key("1")
    a = seed_sequence(3, "01", 1, 0).generate_state(4)
    b = seed_sequence(3, "01", 1, 1).generate_state(4)
    assert not np.array_equal(a, b)


def test_noise_sigma_is_mean_tissue_m0_over_snr(gt3t):
    params = _asl_params(desired_snr=50)
    noise = generate_series(params, gt3t)[0].records["asl"].noise
    counts = np.bincount(gt3t.seg.ravel())
    m0 = gt3t.maps["m0"]
    expected = sum(counts[l] * m0[l] for l in range(1, len(counts))) / counts[1:].sum()
    assert noise.reference == pytest.approx(expected, rel=1e-9)
    assert noise.sigma == pytest.approx(expected / 50, rel=1e-9)


def test_structural_noise_reference_is_mean_tissue_signal(gt3t):
    """docs/physics.md D5: the structural reference is the noiseless signal on the ground-truth grid,
    averaged over the tissue voxels (seg > 0), each tissue weighted by its voxel count."""
    from asldro.physics.signal import mri_signal

    doc = default_params()
    parameters = {"acq_matrix": [32, 32, 12], "desired_snr": 40.0, "acq_contrast": "se"}
    parameters.update(echo_time=0.01, repetition_time=0.5)
    doc["image_series"] = [{"series_type": "structural", "series_parameters": parameters}]
    noise = generate_series(load_params(doc), gt3t)[0].records["structural"].noise
    tables = [gt3t.maps[q] for q in ("m0", "t1", "t2", "t2_star")]
    signal = mri_signal("se", *tables, repetition_time=0.5, echo_time=0.01)
    counts = np.bincount(gt3t.seg.ravel())
    expected = sum(counts[l] * abs(signal[l]) for l in range(1, len(counts))) / counts[1:].sum()
    assert noise.reference == pytest.approx(expected, rel=1e-12)
    assert noise.sigma == pytest.approx(expected / 40.0, rel=1e-12)


def test_noise_reference_without_tissue_labels_is_mean_m0_where_positive():
    """docs/physics.md D5: without a segmentation (every label 0) the tissue mask is m0 > 0."""
    from asldro.groundtruth import GroundTruth

    rng = np.random.default_rng(3)
    shape = (6, 5, 4)
    m0 = np.where(rng.random(shape) < 0.5, 0.0, rng.uniform(50.0, 100.0, shape))
    maps = {name: np.full(shape, value) for name, value in TISSUE.items()}
    gt = GroundTruth(
        affine=np.eye(4),
        shape=shape,
        seg=np.zeros(shape, dtype=np.uint16),
        segmentation={},
        maps={**maps, "m0": m0},
        units={},
        parameters={
            "lambda_blood_brain": 0.9,
            "t1_arterial_blood": 1.65,
            "magnetic_field_strength": 3,
        },
    )
    params = _asl_params(acq_matrix=[3, 5, 2], desired_snr=10.0)
    noise = generate_series(params, gt)[0].records["asl"].noise
    assert noise.reference == pytest.approx(m0[m0 > 0].mean(), rel=1e-12)
    assert noise.sigma == pytest.approx(m0[m0 > 0].mean() / 10.0, rel=1e-12)


def test_spin_echo_control_minus_label_is_delta_m_times_t2_decay(gt3t):
    params = _asl_params(
        acq_matrix=[197, 233, 189],
        desired_snr=0,
        asl_context="control label",
        echo_time=[0.02, 0.02],
        repetition_time=[5.0, 5.0],
    )
    data = generate_series(params, gt3t)[0].images["asl"].data.astype(np.float64)
    grey = gt3t.seg == 1
    lam, t1b = 0.9, 1.65
    f, dt, t1, m0, t2 = (
        gt3t.maps[q][1] for q in ("perfusion_rate", "transit_time", "t1", "m0", "t2")
    )
    f_s = f / 6000
    t1app = 1 / (1 / t1 + f_s / lam)
    tau, t = 1.8, 3.6
    delta_m = 2 * 0.85 * (m0 / lam) * f_s * t1app * math.exp(-dt / t1b)
    delta_m *= math.exp(-(t - tau - dt) / t1app) * (1 - math.exp(-tau / t1app))
    difference = (data[..., 0] - data[..., 1])[grey]
    np.testing.assert_allclose(difference, delta_m * math.exp(-0.02 / t2), rtol=1e-4)


def test_series_m0_replaces_the_m0_map_and_is_reported_uniform(gt3t):
    params = _asl_params(m0=100.0, desired_snr=0, acq_matrix=[197, 233, 189])
    (result,) = generate_series(params, gt3t)
    image = result.images["asl"]
    assert result.records["asl"].m0_uniform_value == 100.0
    # m0scan (TR 10 s, TE 10 ms) of a uniform M0 is M0*(1-E1)*E2 in every tissue voxel
    grey = gt3t.seg == 1
    t1, t2 = gt3t.maps["t1"][1], gt3t.maps["t2"][1]
    expected = 100.0 * (1 - math.exp(-10 / t1)) * math.exp(-0.01 / t2)
    np.testing.assert_allclose(image.data[..., 0][grey], expected, rtol=1e-5)


def test_ground_truth_series_never_invents_labels(gt3t):
    doc = default_params()
    doc["image_series"] = [
        {
            "series_type": "ground_truth",
            "series_parameters": {"acq_matrix": [40, 50, 30], "rot_z": 7.0, "transl_x": 3.0},
        }
    ]
    (result,) = generate_series(load_params(doc), gt3t)
    seg = result.images["seg_label"].data
    assert seg.dtype == np.uint16
    assert set(np.unique(seg)) <= set(np.unique(gt3t.seg[::4, ::4, ::4])) | {0}
    tissue_maps = {f"probseg_{tissue}" for tissue in gt3t.segmentation} | {"brain_mask"}
    assert set(result.images) == set(gt3t.quantities) | tissue_maps
    perfusion = result.images["perfusion_rate"].data
    assert perfusion.max() <= 60.0 + 1e-4 and perfusion.min() >= 0.0


def test_structural_default_is_on_the_ground_truth_grid(gt3t):
    params = load_params(default_params())
    result = generate_series(params, gt3t)[2]
    structural = result.images["structural"]
    assert structural.data.shape == gt3t.shape
    np.testing.assert_array_equal(structural.affine, gt3t.affine)
    assert result.records["structural"].noise.sigma > 0
    assert [h["filter"] for h in structural.history][-3:] == [
        "add_complex_noise",
        "magnitude",
        "cast",
    ]


def test_complex_structural_output_keeps_phase(gt3t):
    doc = default_params()
    doc["image_series"] = [
        {
            "series_type": "structural",
            "series_parameters": {"acq_matrix": [40, 48, 36], "output_image_type": "complex"},
        }
    ]
    (result,) = generate_series(load_params(doc), gt3t)
    data = result.images["structural"].data
    assert np.iscomplexobj(data)
    assert np.any(data.real < 0)


def test_provenance_records_seeds_and_sigma(gt3t):
    params = _asl_params()
    results = generate_series(params, gt3t, participant_label="07")
    record = provenance(results, participant_label="07", seed=None)
    (entry,) = [entry for entry in record["series"] if entry["image"] == "asl"]
    assert entry["seeds"][0]["spawn_key"] == [label_key("07"), 1, 0]
    assert entry["noise_sigma"] > 0
    regenerated = np.random.Generator(
        np.random.PCG64(
            np.random.SeedSequence(**{"entropy": 0, "spawn_key": [label_key("07"), 1, 0]})
        )
    )
    assert regenerated.standard_normal() == pytest.approx(
        np.random.Generator(np.random.PCG64(seed_sequence(0, "07", 1, 0))).standard_normal()
    )


def test_fraction_cache_stays_bounded_with_motion_per_volume(gt3t):
    from asldro.params.types import Motion
    from asldro.pipelines.context import FRACTIONS_KEPT, SimulationContext

    context = SimulationContext(gt3t)
    for shift in range(FRACTIONS_KEPT + 3):
        context.fractions((16, 16, 8), Motion(transl_x=float(shift)))
    assert len(context._fractions) == FRACTIONS_KEPT  # pylint: disable=protected-access


def test_majority_label_counts_outside_the_field_of_view_as_background(gt3t):
    from asldro.params.types import Motion
    from asldro.pipelines.context import SimulationContext

    # shift the head far out of the field of view along x: edge voxels are mostly outside
    doc = default_params()
    parameters = {"acq_matrix": [20, 24, 20], "transl_x": 180.0}
    doc["image_series"] = [{"series_type": "ground_truth", "series_parameters": parameters}]
    labels = generate_series(load_params(doc), gt3t)[0].images["seg_label"].data
    fractions = SimulationContext(gt3t).fractions((20, 24, 20), Motion(transl_x=180.0))
    background = 1.0 - fractions[1:].sum(axis=0)  # label 0 inside plus everything outside
    tissue = fractions[1:].max(axis=0)
    assert np.any(fractions.sum(axis=0) < 0.5)  # some voxels are mostly outside the FOV
    assert np.all(labels[background > tissue + 1e-9] == 0)
    assert np.all(labels[tissue > background + 1e-9] > 0)


def test_volumes_are_identical_whatever_the_thread_count(gt3t):
    params = _asl_params(
        asl_context="m0scan control label control label",
        rot_z=[0.0, 1.0, 2.0, 3.0, 4.0],
        transl_y=[0.5, 0.0, -0.5, 1.0, 0.0],
    )
    arrays = [
        generate_series(params, gt3t, threads=threads)[0].images["asl"].data for threads in (1, 3)
    ]
    assert arrays[0].tobytes() == arrays[1].tobytes()


def test_volume_threads_follow_the_budget_never_beyond_the_volumes_or_the_cap():
    from asldro.pipelines.asl import MAX_VOLUME_THREADS, volume_threads

    assert volume_threads(10, 1) == 1
    assert volume_threads(10, 3) == 3
    assert volume_threads(2, 3) == 2
    assert volume_threads(100, 64) == MAX_VOLUME_THREADS


def test_the_context_runs_the_volumes_on_its_budget(gt3t):
    from asldro.pipelines.context import SimulationContext

    assert SimulationContext(gt3t, threads=3).threads == 3


def _rotated_params():
    doc = default_params()
    doc["image_series"] = [
        {
            "series_type": "asl",
            "series_parameters": {
                "acq_matrix": [24, 28, 20],
                "asl_context": "m0scan control label",
                "rot_z": [0.0, 2.0, 4.0],
            },
        },
        {
            "series_type": "ground_truth",
            "series_parameters": {"acq_matrix": [24, 28, 20], "rot_x": 3.0},
        },
    ]
    return load_params(doc)


def test_context_caches_are_released_on_exit(gt3t):
    import weakref

    from asldro.pipelines.asl import simulate_asl
    from asldro.pipelines.context import SimulationContext
    from asldro.pipelines.groundtruth import simulate_ground_truth

    asl, truth = _rotated_params().series
    with SimulationContext(gt3t) as context:
        simulate_asl(context, asl, 1, participant_label="01")
        simulate_ground_truth(context, truth, 2)
        cached = list(context.cached_arrays())
        # summed-volume tables on the ground-truth grid, and label fractions
        assert any(array.shape[:3] == tuple(n + 1 for n in gt3t.shape) for array in cached)
        assert any(array.shape[1:] == (24, 28, 20) for array in cached)
        refs = [weakref.ref(array) for array in cached]
        del cached
    assert not list(context.cached_arrays())
    assert all(ref() is None for ref in refs)


def test_generate_series_releases_the_caches_of_the_participant(gt3t, monkeypatch):
    """The shipped path: the context's cached arrays are gone once generate_series returns,
    while its results stay."""
    import weakref

    import asldro.pipelines as pipelines
    from asldro.pipelines.context import SimulationContext

    refs = []

    class Recorded(SimulationContext):
        """A real context that remembers (weakly) what it cached before releasing it."""

        def release(self) -> None:
            refs.extend(weakref.ref(array) for array in self.cached_arrays())
            super().release()

    monkeypatch.setattr(pipelines, "SimulationContext", Recorded)
    results = pipelines.generate_series(_rotated_params(), gt3t)
    assert refs  # the caches were used, and released
    assert all(ref() is None for ref in refs)
    assert results[0].images["asl"].data.shape == (24, 28, 20, 3)


def test_fractions_are_computed_outside_the_lock_once_per_motion(gt3t, monkeypatch):
    """Issue 16: a moved volume's fractions are computed without holding the context's lock
    (the volume threads of a series resample at once), and a thread asking for fractions
    another is computing waits for those instead of computing them again; a failure reaches
    every thread that waited and is not kept."""
    import threading

    from asldro.params.types import Motion
    from asldro.pipelines.context import SimulationContext

    context = SimulationContext(gt3t)
    first_started, release = threading.Event(), threading.Event()
    calls: list[tuple] = []

    def computed(key):
        calls.append(key)
        if key[1].transl_x == 1.0:
            first_started.set()
            assert release.wait(30)  # held until the other motion was computed meanwhile
        if key[1].transl_x == 3.0:
            raise RuntimeError("resampling failed")
        return np.full(3, key[1].transl_x)

    monkeypatch.setattr(context, "_computed_fractions", computed)
    grid = (8, 8, 4)
    results: dict[str, np.ndarray] = {}
    slow = threading.Thread(
        target=lambda: results.update(a=context.fractions(grid, Motion(transl_x=1.0)))
    )
    slow.start()
    assert first_started.wait(30)
    waiting = threading.Thread(
        target=lambda: results.update(b=context.fractions(grid, Motion(transl_x=1.0)))
    )
    waiting.start()
    # the lock is free while motion 1 is computed: another motion is computed now
    assert context.fractions(grid, Motion(transl_x=2.0))[0] == 2.0
    release.set()
    slow.join(30)
    waiting.join(30)
    assert results["a"] is results["b"]
    assert [key[1].transl_x for key in calls].count(1.0) == 1
    with pytest.raises(RuntimeError, match="resampling failed"):
        context.fractions(grid, Motion(transl_x=3.0))
    with pytest.raises(RuntimeError, match="resampling failed"):
        context.fractions(grid, Motion(transl_x=3.0))  # not kept: computed (and failing) again
    assert [key[1].transl_x for key in calls].count(3.0) == 2
