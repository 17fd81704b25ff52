"""2D multi-slice readouts through the pipeline (issue 12 item 2): slice k is excited at
signal_time + SliceTiming[k], and ΔM is evaluated at that time for the ground-truth voxels that
feed acquisition slice k (the moved acquisition geometry decides which), in the lookup-table and
in the dense-map path; the white-paper quantification of each slice with PLD + SliceTiming[k]
returns the true CBF; multiband slice times repeat per band."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from asldro.acquisition import Resampler, acquisition_grid
from asldro.acquisition.motion import motion_matrix
from asldro.groundtruth import GroundTruth, load_ground_truth
from asldro.image import apply_pipeline
from asldro.params import load_params
from asldro.params.types import LabelTiming, Motion
from asldro.physics import gkm, signal
from asldro.pipelines.asl import build_asl_pipeline
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.filters import CastTo
from asldro.pipelines.slices import SliceReadout, feeding_box

#: The uniform phantom of ASLDRO develop's vector A (tests/pipelines/test_multipld.py).
PHANTOM = {
    "perfusion_rate": 60.0,
    "transit_time": 0.8,
    "t1": 1.33,
    "t2": 0.08,
    "t2_star": 0.066,
    "m0": 100.0,
}
LAMBDA, T1B, ALPHA, TAU = 0.9, 1.65, 0.85, 1.8
#: Arrived regime (t >= transit 0.8 + tau 1.8) in both phases.
SIGNAL_TIMES = [2.8, 3.6]


def _document(image_override=None, **series) -> dict:
    parameters = {
        "asl_context": "m0scan control label",
        "label_type": "pcasl",
        "label_duration": TAU,
        "signal_time": SIGNAL_TIMES,
        "label_efficiency": ALPHA,
        "acq_contrast": "se",
        "echo_time": 0.01,
        "repetition_time": [10.0, 5.0, 5.0],
        "acq_matrix": [6, 5, 8],
        "desired_snr": 0.0,
        "mr_acq_type": "2D",
        **series,
    }
    return {
        "global_configuration": {
            "ground_truth": "hrgt_icbm_2009a_nls_3t",
            "image_override": dict(PHANTOM if image_override is None else image_override),
            "parameter_override": {"lambda_blood_brain": LAMBDA, "t1_arterial_blood": T1B},
        },
        "image_series": [{"series_type": "asl", "series_parameters": parameters}],
    }


def _pipeline(document: dict, truth: GroundTruth | None = None):
    params = load_params(document)
    if truth is None:
        truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    context = SimulationContext(truth)
    return build_asl_pipeline(params.series[0], context, participant_label="01", index=1)


def _truth(seg: np.ndarray, tables: dict, affine: np.ndarray) -> GroundTruth:
    return GroundTruth(
        affine=affine,
        shape=seg.shape,
        seg=seg,
        segmentation={"grey_matter": 1, "white_matter": 2, "csf": 3},
        maps={name: np.asarray(values, dtype=np.float64) for name, values in tables.items()},
        units={},
        parameters={
            "lambda_blood_brain": LAMBDA,
            "t1_arterial_blood": T1B,
            "magnetic_field_strength": 3,
        },
    )


def _uniform_truth(**values) -> GroundTruth:
    """A uniform phantom (:data:`PHANTOM`, ``values`` replacing some) filling a small grid
    whose size is not a multiple of the acquisition matrix (voxels straddle slices)."""
    tables = {name: [value, value] for name, value in {**PHANTOM, **values}.items()}
    return _truth(np.ones((25, 21, 30), dtype=np.uint16), tables, np.diag([2.0, 2.0, 1.5, 1.0]))


def _dense(truth: GroundTruth) -> GroundTruth:
    """The same ground truth with every quantity a dense map (the dense-map path)."""
    maps = {name: np.asarray(truth.dense(name), dtype=np.float64) for name in truth.maps}
    return dataclasses.replace(truth, maps=maps)


def _volumes(pipeline) -> list[np.ndarray]:
    """Every volume in float64, before the float32 cast."""
    out = []
    for volume in range(len(pipeline.series.volumes)):
        filters = pipeline.filters(volume)
        assert isinstance(filters[-1], CastTo)
        image = apply_pipeline(pipeline.start, filters[:-1])
        assert image.data.dtype == np.float64
        out.append(np.asarray(image.data))
    return out


def _delta_m_by_phase(pipeline) -> list[np.ndarray]:
    """control - label of each phase (volumes m0scan, control, label per phase)."""
    volumes = _volumes(pipeline)
    return [volumes[3 * p + 1] - volumes[3 * p + 2] for p in range(len(SIGNAL_TIMES))]


def _t1_apparent(t1: float, cbf: float) -> float:
    return 1.0 / (1.0 / t1 + cbf / 6000.0 / LAMBDA)


@pytest.mark.parametrize("path", ["tables", "dense"])
@pytest.mark.parametrize("order", ["ascending", "descending", "interleaved"])
def test_uniform_phantom_slice_ratio_is_the_apparent_t1_decay(path, order):
    """Arrived regime: ΔM in slice k over ΔM in the first acquired slice is
    exp(-SliceTiming[k]/T1app) (full model) to 1e-10, in every voxel and both phases."""
    truth = _uniform_truth()
    document = _document(slice_order=order, slice_readout_time=0.07)
    pipeline = _pipeline(document, _dense(truth) if path == "dense" else truth)
    assert (pipeline.maps["m0"].ndim == 3) is (path == "dense")
    times = np.asarray(pipeline.series.readout_slice_timing)
    assert sorted(times) == pytest.approx([0.07 * k for k in range(8)], abs=1e-12)
    first = int(np.argmin(times))
    expected = np.exp(-times / _t1_apparent(PHANTOM["t1"], PHANTOM["perfusion_rate"]))
    for delta_m in _delta_m_by_phase(pipeline):
        assert np.all(delta_m > 0)
        ratio = delta_m / delta_m[..., first].mean()
        np.testing.assert_allclose(ratio, np.broadcast_to(expected, ratio.shape), rtol=1e-10)


@pytest.mark.parametrize("path", ["tables", "dense"])
def test_white_paper_quantification_per_slice_returns_the_true_cbf(path):
    """T1 chosen so that T1app = T1b (the white paper's assumption) and a fully relaxed M0:
    CBF = 6000 λ ΔM e^{PLD_k/T1b} / (2 α T1b M0 (1 - e^{-τ/T1b})) with PLD_k = PLD +
    SliceTiming[k] returns the true CBF in every slice; the unshifted PLD would not."""
    cbf = PHANTOM["perfusion_rate"]
    t1 = 1.0 / (1.0 / T1B - cbf / 6000.0 / LAMBDA)
    assert _t1_apparent(t1, cbf) == pytest.approx(T1B, rel=1e-14)
    document = _document(
        slice_order="interleaved",
        slice_readout_time=0.045,
        repetition_time=[200.0, 5.0, 5.0],  # the M0 volume fully relaxed: e^(-200/T1) ~ 1e-52
    )
    truth = _uniform_truth(t1=t1)
    pipeline = _pipeline(document, _dense(truth) if path == "dense" else truth)
    times = np.asarray(pipeline.series.readout_slice_timing)
    volumes = _volumes(pipeline)
    for phase, signal_time in enumerate(SIGNAL_TIMES):
        m0, control, label = volumes[3 * phase : 3 * phase + 3]
        pld = signal_time - TAU + times  # one per slice, broadcast over the last axis
        scale = 6000.0 * LAMBDA / (2.0 * ALPHA * T1B * (1.0 - np.exp(-TAU / T1B)))
        quantified = scale * (control - label) * np.exp(pld / T1B) / m0
        np.testing.assert_allclose(quantified, cbf, rtol=1e-10)
        unshifted = scale * (control - label) * np.exp((signal_time - TAU) / T1B) / m0
        assert abs(unshifted[..., int(np.argmax(times))].mean() / cbf - 1) > 0.1


def test_multiband_slices_excited_together_have_the_same_signal():
    """Multiband 2 over 8 slices: slice k and k + 4 share their time, and their ΔM is equal."""
    pipeline = _pipeline(_document(multiband_factor=2, slice_readout_time=0.1), _uniform_truth())
    times = pipeline.series.readout_slice_timing
    assert times == (0.0, 0.1, 0.2, 0.3, 0.0, 0.1, 0.2, 0.3)
    for delta_m in _delta_m_by_phase(pipeline):
        np.testing.assert_array_equal(delta_m[..., :4], delta_m[..., 4:])
        assert delta_m[..., 1].mean() < delta_m[..., 0].mean()


def test_delta_m_is_computed_once_per_distinct_slice_time():
    """Lookup tables: one ΔM table per (phase, distinct slice time), computed when the pipeline
    is built; the label volumes read them (multiband 2: 4 distinct times, 2 phases)."""
    pipeline = _pipeline(_document(multiband_factor=2, slice_readout_time=0.1), _uniform_truth())
    timings = set(pipeline.kinetics.timings)
    assert {(t.label_duration, round(t.readout_time, 9)) for t in timings} == {
        (TAU, round(t + d, 9)) for t in SIGNAL_TIMES for d in (0.0, 0.1, 0.2, 0.3)
    }
    assert len(timings) == 8
    assert pipeline.shared_filters == ()
    readout = pipeline.filters(2)[0]
    assert isinstance(readout, SliceReadout)
    assert [group.delay for group in readout.groups] == [0.0, 0.1, 0.2, 0.3]
    assert [group.slices for group in readout.groups] == [(0, 4), (1, 5), (2, 6), (3, 7)]
    control = pipeline.filters(1)  # no ΔM in a control: the same signal at every slice time
    assert not any(isinstance(step, SliceReadout) for step in control)
    assert control[0].timing == LabelTiming(TAU, SIGNAL_TIMES[0])


# ------------------------------------------------------------------------------------------
# Motion: the moved acquisition geometry decides which ground-truth voxels feed which slice


def _structured_truth() -> GroundTruth:
    """A small ground truth with three tissues in slabs and blobs (tables), 2 mm voxels: its
    transit times put tissue in each regime at the signal times used."""
    shape = (26, 22, 18)
    grid = np.indices(shape)
    seg = np.zeros(shape, dtype=np.uint16)
    seg[3:23, 3:19, 2:16] = 1
    seg[(grid[0] - 13) ** 2 + (grid[1] - 11) ** 2 + 2 * (grid[2] - 9) ** 2 < 40] = 2
    seg[5:9, 4:18, 4:14] = 3
    tables = {
        "perfusion_rate": [0.0, 60.0, 20.0, 90.0],
        "transit_time": [0.0, 0.8, 1.9, 1.2],
        "t1": [0.0, 1.33, 0.83, 1.6],
        "t2": [0.0, 0.08, 0.11, 0.07],
        "t2_star": [0.0, 0.066, 0.05, 0.06],
        "m0": [0.0, 100.0, 80.0, 110.0],
    }
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-25.0, -21.0, -17.0]
    return _truth(seg, tables, affine)


MOTION = {"rot_x": 90.0, "rot_z": 12.0, "transl_y": 1.5, "transl_z": -2.0}


def _reference_label(
    truth: GroundTruth, acq_matrix, slice_timing, signal_time: float
) -> np.ndarray:
    """The label volume of a 2D readout computed independently: for each acquisition slice k,
    the dense label signal at signal_time + slice_timing[k] (the physics functions directly),
    box-sampled onto the moved grid as a whole volume, of which slice k is kept."""
    dense = {name: np.asarray(truth.dense(name), dtype=np.float64) for name in truth.maps}
    grid = acquisition_grid(truth.affine, truth.shape, acq_matrix)
    resampler = Resampler(truth.affine, truth.shape, grid, motion_matrix(Motion(**MOTION)))
    out = np.empty(grid.shape)
    for k, delay in enumerate(slice_timing):
        delta_m = gkm.delta_m(
            "pcasl",
            dense["perfusion_rate"],
            dense["transit_time"],
            dense["t1"],
            dense["m0"],
            label_duration=TAU,
            signal_time=signal_time + delay,
            label_efficiency=ALPHA,
            lambda_blood_brain=LAMBDA,
            t1_arterial_blood=T1B,
        )
        label = signal.mri_signal(
            "se",
            dense["m0"],
            dense["t1"],
            dense["t2"],
            dense["t2_star"],
            repetition_time=5.0,
            echo_time=0.01,
            m_enc=-delta_m,
        )
        out[..., k] = resampler.resample(label)[..., k]
    return out


@pytest.mark.parametrize("path", ["tables", "dense"])
def test_a_rotated_acquisition_takes_each_slice_at_its_own_time(path):
    """A 90° rotation about x turns the ground truth's y axis into the acquisition's slice
    axis: every acquisition slice is fed by voxels from many ground-truth z-slices. The
    pipeline's label volume equals the independent per-slice reference (to 1e-12), which a
    readout that timed the ground-truth slices, or the unmoved geometry, would not."""
    truth = _structured_truth()
    if path == "dense":
        truth = _dense(truth)
    document = _document(
        {},
        acq_matrix=[9, 8, 7],
        slice_order="interleaved",
        slice_readout_time=0.15,
        signal_time=[2.2],
        **MOTION,
    )
    pipeline = _pipeline(document, truth)
    assert (pipeline.maps["m0"].ndim == 1) is (path == "tables")
    label = _volumes(pipeline)[2]
    times = pipeline.series.readout_slice_timing
    expected = _reference_label(truth, (9, 8, 7), times, 2.2)
    np.testing.assert_allclose(label, expected, rtol=1e-12, atol=1e-9)
    all_at_once = _reference_label(truth, (9, 8, 7), (0.0,) * 7, 2.2)
    assert np.max(np.abs(label - all_at_once)) > 1e-3 * np.max(np.abs(label))
    unmoved = _label_timed_by_ground_truth_slice(truth, (9, 8, 7), times, 2.2)
    assert np.max(np.abs(label - unmoved)) > 1e-3 * np.max(np.abs(label))


def _label_timed_by_ground_truth_slice(truth, acq_matrix, slice_timing, signal_time):
    """The wrong readout: each ground-truth voxel takes the time of the acquisition slice it
    would lie in without motion, then the whole volume is moved and acquired."""
    dense = {name: np.asarray(truth.dense(name), dtype=np.float64) for name in truth.maps}
    slice_of_z = np.arange(truth.shape[2]) * acq_matrix[2] // truth.shape[2]
    delays = np.asarray(slice_timing)[slice_of_z][None, None, :]
    delta_m = gkm.delta_m(
        "pcasl",
        dense["perfusion_rate"],
        dense["transit_time"],
        dense["t1"],
        dense["m0"],
        label_duration=TAU,
        signal_time=signal_time + delays,
        label_efficiency=ALPHA,
        lambda_blood_brain=LAMBDA,
        t1_arterial_blood=T1B,
    )
    label = signal.mri_signal(
        "se",
        dense["m0"],
        dense["t1"],
        dense["t2"],
        dense["t2_star"],
        repetition_time=5.0,
        echo_time=0.01,
        m_enc=-delta_m,
    )
    grid = acquisition_grid(truth.affine, truth.shape, acq_matrix)
    resampler = Resampler(truth.affine, truth.shape, grid, motion_matrix(Motion(**MOTION)))
    return resampler.resample(label)


def test_the_slab_of_a_slice_holds_every_voxel_that_feeds_it():
    """The dense path acquires slice k from the bounding box of its pulled-back extent: every
    ground-truth voxel with a non-zero weight in slice k lies inside it (a one-voxel impulse
    at each ground-truth voxel near the box's edge is seen only inside)."""
    truth = _structured_truth()
    grid = acquisition_grid(truth.affine, truth.shape, (9, 8, 7))
    resampler = Resampler(truth.affine, truth.shape, grid, motion_matrix(Motion(**MOTION)))
    weight = np.zeros(truth.shape)
    for k in range(7):
        box = feeding_box(resampler, k, k)
        assert box is not None
        inside = np.zeros(truth.shape, dtype=bool)
        inside[box] = True
        # the acquisition of the indicator of "outside the box" is 0 in slice k
        weight = resampler.resample((~inside).astype(np.float64))
        assert np.max(weight[..., k]) < 1e-12
        assert inside.sum() < inside.size  # a slab, not the whole grid
