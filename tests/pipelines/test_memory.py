"""Peak-memory estimate and the check that refuses what cannot fit (issue 9 item 14).

No run is measured here (bench/memory_estimate.py compares the estimate with measured RSS);
these tests check the rules: what the estimate grows with, the limit, parallel workers, and
that the default and end-to-end cases are never refused.
"""

import copy
import dataclasses

import numpy as np
import pytest

from asldro.params import ParamError, default_params, load_params
from asldro.pipelines import memory
from asldro.pipelines.memory import (
    ASL_VOLUME_OBJECTS,
    GIB,
    MIB,
    MemoryLimitError,
    available_memory,
    check_memory,
    estimate_peak_memory,
    parse_memory_size,
)
from tests.e2e.test_generate import CASES


def _asl(acq_matrix, volumes=3):
    context = " ".join((["control", "label"] * volumes)[:volumes])
    doc = default_params()
    doc["image_series"] = [
        {
            "series_type": "asl",
            "series_parameters": {
                "acq_matrix": acq_matrix,
                "asl_context": context,
                "echo_time": 0.01,
                "repetition_time": 5.0,
                **{k: 0.0 for k in ("rot_x", "rot_y", "rot_z", "transl_x", "transl_y", "transl_z")},
            },
        }
    ]
    return load_params(doc)


@pytest.mark.parametrize(
    "text, size",
    [
        ("16G", 16 * GIB),
        ("16GiB", 16 * GIB),
        ("16gb", 16 * GIB),
        ("800M", 800 * MIB),
        ("1.5T", int(1.5 * 1024 * GIB)),
        (" 512 k ", 512 * 1024),
    ],
)
def test_memory_sizes_take_binary_units(text, size):
    assert parse_memory_size(text) == size


@pytest.mark.parametrize("text", ["16", "lots", "-1G", "0G", "16X", ""])
def test_memory_size_needs_a_number_and_a_unit(text):
    with pytest.raises(ValueError, match="expected a size"):
        parse_memory_size(text)


def test_the_default_run_and_every_end_to_end_case_fit_in_2_gib(gt3t):
    """They run at about 400 MiB: the estimate never refuses them on an ordinary machine."""
    for doc in [default_params(), *CASES.values()]:
        params = load_params(copy.deepcopy(doc))
        estimate = check_memory(params, max_memory=2 * GIB, ground_truth=gt3t)
        assert estimate.total < 2 * GIB


def test_700_cubed_is_refused_before_simulating(gt3t):
    """acq_matrix [700, 700, 700] needs ~30 GiB: refused with the estimate, the series that
    sets it and the limit, as a parameter error (exit 65)."""
    params = _asl([700, 700, 700])
    with pytest.raises(MemoryLimitError) as info:
        check_memory(params, max_memory=24 * GIB, ground_truth=gt3t)
    message = str(info.value)
    assert isinstance(info.value, ParamError)
    assert "image_series[0] (asl, acq_matrix 700x700x700, 3 volumes)" in message
    assert "more than the 24.0 GiB allowed by --max-memory" in message
    assert estimate_peak_memory(params, gt3t).total > 24 * GIB


def test_max_memory_can_raise_the_limit(gt3t):
    """--max-memory above the estimate lets the same parameters through."""
    params = _asl([700, 700, 700])
    assert check_memory(params, max_memory=1 << 40, ground_truth=gt3t).total < 1 << 40


@pytest.fixture(scope="module")
def partial_volume_truth():
    """The built-in 3T ground truth as asldro loads it by default (partial volume)."""
    from asldro.groundtruth import builtin_ground_truth

    return builtin_ground_truth("hrgt_icbm_2009a_nls_3t")


def test_estimate_grows_with_the_grid_and_with_volumes_only_by_their_records(
    partial_volume_truth,
):
    """An asl series is streamed to disk on a partial-volume truth (issue 16 item 1): 10 000
    volumes at 64x64x12 (9.9 GB before, when the 4-D stack was held) cost only their records
    more than 4 volumes; a finer grid costs more."""
    truth = partial_volume_truth
    small = _series_part(estimate_peak_memory(_asl([64, 64, 12], 4), truth))
    many = _series_part(estimate_peak_memory(_asl([64, 64, 12], 10_000), truth))
    fine = _series_part(estimate_peak_memory(_asl([128, 128, 24], 4), truth))
    assert small < fine
    assert many - small == pytest.approx((10_000 - 4) * ASL_VOLUME_OBJECTS, abs=1)
    assert many < 2 * GIB


def test_on_label_maps_the_stack_of_an_asl_series_is_counted(gt3t):
    """On a label-map truth the asl series stays in memory until written: 4 bytes more per
    acquisition voxel and volume."""
    small = _series_part(estimate_peak_memory(_asl([64, 64, 12], 4), gt3t))
    many = _series_part(estimate_peak_memory(_asl([64, 64, 12], 1004), gt3t))
    per_volume = 64 * 64 * 12 * 4 + ASL_VOLUME_OBJECTS
    assert many - small == pytest.approx(1000 * per_volume, abs=1)


def _series_part(estimate) -> int:
    """The bytes of the first series' part of an estimate (simulating and writing it)."""
    name, size = estimate.parts[1]
    assert name.startswith("image_series[0] ")
    return size


def test_the_report_reads_each_asl_series_back(partial_volume_truth):
    """The report reads a written asl run whole: with many volumes it sets the estimate, 4
    bytes per acquisition voxel and volume."""
    few = estimate_peak_memory(_asl([64, 64, 12], 2000), partial_volume_truth)
    many = estimate_peak_memory(_asl([64, 64, 12], 4000), partial_volume_truth)
    for estimate in (few, many):
        assert estimate.largest == "the report of " + estimate.parts[1][0]
    assert many.total - few.total == pytest.approx(2000 * 64 * 64 * 12 * 4, abs=1)


def test_parallel_participants_multiply_the_need(gt3t):
    """Two participants in two processes need twice one participant's peak."""
    params = _asl([200, 200, 200], 8)
    one = estimate_peak_memory(params, gt3t).total
    limit = int(1.5 * one)
    check_memory(params, participants=2, parallel=1, max_memory=limit, ground_truth=gt3t)
    check_memory(params, participants=1, parallel=4, max_memory=limit, ground_truth=gt3t)
    with pytest.raises(MemoryLimitError, match=r"\(2 participants in parallel\)"):
        check_memory(params, participants=2, parallel=4, max_memory=limit, ground_truth=gt3t)


def test_available_memory_is_known_on_linux():
    """MemAvailable (or a cgroup limit) is read: a positive number of bytes."""
    available = available_memory()
    assert available is not None and available > 0


def test_complex_asl_costs_more_than_magnitude(gt3t):
    """A complex asl series keeps complex64 volumes and writes two parts: it is estimated above
    the same magnitude series."""
    magnitude = _asl([64, 64, 12], 40)
    doc = copy.deepcopy(dict(magnitude.resolved))
    doc["image_series"][0]["series_parameters"]["output_image_type"] = "complex"
    complex_ = load_params(doc)
    complex_part = _series_part(estimate_peak_memory(complex_, gt3t))
    assert complex_part > _series_part(estimate_peak_memory(magnitude, gt3t))


def _multi_pld(acq_matrix, phases, tokens="m0scan control label"):
    """A multi-PLD series: ``tokens`` acquired at ``phases`` signal times (pCASL, tau 1.8)."""
    doc = default_params()
    doc["image_series"] = [
        {
            "series_type": "asl",
            "series_parameters": {
                "acq_matrix": acq_matrix,
                "asl_context": tokens,
                "signal_time": [2.0 + 0.25 * i for i in range(phases)],
            },
        }
    ]
    return load_params(doc)


def _dense_gt(gt3t):
    """The built-in 3T truth with a dense CBF map (so the signal is computed on its grid)."""
    maps = dict(gt3t.maps)
    maps["perfusion_rate"] = gt3t.dense("perfusion_rate").astype(np.float64)
    return dataclasses.replace(gt3t, maps=maps)


def test_the_estimate_counts_the_volumes_of_every_phase(gt3t):
    """100 phases of 'm0scan control label' are 300 volumes: the estimate is that of a
    300-volume single-phase series, far above the 3 tokens alone."""
    multi = _multi_pld([64, 64, 12], 100)
    assert len(multi.series[0].volumes) == 300
    same_volumes = _asl([64, 64, 12], 300)
    assert estimate_peak_memory(multi, gt3t).total == estimate_peak_memory(same_volumes, gt3t).total
    one_phase = _multi_pld([64, 64, 12], 1)
    assert estimate_peak_memory(multi, gt3t).total > estimate_peak_memory(one_phase, gt3t).total
    assert "300 volumes" in estimate_peak_memory(multi, gt3t).largest


def test_dense_maps_cost_one_delta_m_per_distinct_timing(gt3t):
    """With dense maps each distinct (tau, t) holds a float64 ΔM on the ground-truth grid:
    6 phases cost 5 such maps more than one phase of as many volumes."""
    dense = _dense_gt(gt3t)
    six = _multi_pld([32, 32, 12], 6, "control label")
    twelve = _asl([32, 32, 12], 12)
    n_gt = int(np.prod(gt3t.shape))
    extra = estimate_peak_memory(six, dense).total - estimate_peak_memory(twelve, dense).total
    assert extra == pytest.approx(5 * 8 * n_gt, abs=2)
    assert estimate_peak_memory(six, gt3t).total == estimate_peak_memory(twelve, gt3t).total


def _dispersed(acq_matrix, volumes=4):
    params = _asl(acq_matrix, volumes)
    series = dataclasses.replace(params.series[0], dispersion={"type": "gamma", "s": 7.0, "p": 0.1})
    return dataclasses.replace(params, series=(series,))


def _extra(params, plain, truth):
    return (
        estimate_peak_memory(params, truth, threads=2).total
        - estimate_peak_memory(plain, truth, threads=2).total
    )


def test_a_dispersion_on_dense_maps_costs_its_distinct_values(gt3t):
    """A dispersed ΔM on dense maps holds the distinct-value search and its quadrature rows
    (one per distinct Δt, T1, CBF: at most the product of each one's distinct values) while it
    is computed; the larger of that and the simulation's dense working set counts. On lookup
    tables it costs nothing more."""
    plain, dispersed = _asl([32, 32, 12], 4), _dispersed([32, 32, 12], 4)
    assert _extra(dispersed, plain, gt3t) == 0
    dense = _dense_gt(gt3t)  # a dense CBF (0, 20, 60) with tables of 4 labels: 48 combinations
    combinations = 4 * 4 * np.unique(dense.maps["perfusion_rate"]).size
    assert combinations == 48
    n_gt = int(np.prod(gt3t.shape))
    simulation = n_gt * (memory.ASL_DENSE + memory.ASL_DENSE_THREAD * 2)  # 2 volume threads
    dispersion = (
        n_gt * memory.DISPERSION_DENSE
        + combinations * memory.DISPERSION_DISTINCT
        + memory.DISPERSION_CHUNK
    )
    assert _extra(dispersed, plain, dense) == pytest.approx(dispersion - simulation, abs=2)
    rng = np.random.default_rng(0)
    t1 = dense.dense("t1") * (1 + 1e-3 * rng.random(gt3t.shape))  # every voxel differs
    noisy = dataclasses.replace(dense, maps={**dense.maps, "t1": t1})
    every = n_gt * (memory.DISPERSION_DENSE + memory.DISPERSION_DISTINCT)
    assert _extra(dispersed, plain, noisy) == pytest.approx(
        every + memory.DISPERSION_CHUNK - simulation, abs=2
    )
