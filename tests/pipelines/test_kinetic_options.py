"""The kinetic options through the real pipeline (issue 11 items 3-6): ``gkm_model``, the PASL
bolus cut-off, the arterial component and bolus dispersion.

ASLDRO develop's test vectors E, F and G (docs/physics.md §4.7; run with develop itself) and the
arterial vector of docs/physics.md §4.9 on vector A's uniform phantom (every quantity
overridden: f 60, Δt 0.8, T1 1.33, T2 0.08, T2* 0.066, M0 100; λ 0.9, T1b 1.65; spin echo,
TE 0.01, TR 10 / 5 / 5; acq_matrix [8, 8, 8]; no noise): control − label of every phase, to
1e-8 in float64 before the float32 cast and to float32 precision in the written file.
"""

from __future__ import annotations

import json
import math
import warnings

import nibabel as nib
import numpy as np
import pytest

from asldro.api import generate
from asldro.groundtruth import load_ground_truth
from asldro.image import apply_pipeline
from asldro.params import load_params
from asldro.params.catalog import DISPERSION_GAMMA_P, DISPERSION_GAMMA_S
from asldro.physics import gkm
from asldro.physics.bolus import BolusCutOff
from asldro.physics.dispersion import Dispersion
from asldro.pipelines.asl import build_asl_pipeline
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.filters import CastTo

PHANTOM = {
    "perfusion_rate": 60.0,
    "transit_time": 0.8,
    "t1": 1.33,
    "t2": 0.08,
    "t2_star": 0.066,
    "m0": 100.0,
}
#: The spin-echo factor of every volume: control - label = ΔM * E2.
E2 = math.exp(-0.01 / 0.08)

#: ASLDRO develop's vectors (kinetics reference §1.10): control - label per phase.
VECTORS = {
    "E": (
        {"gkm_model": "whitepaper", "label_type": "pcasl", "label_duration": 1.8},
        [2.0, 2.6, 3.6],
        [0.0, 1.1247676665, 0.6135557724],
    ),
    "F": (
        {"gkm_model": "full", "label_type": "pasl", "label_duration": 0.8},
        [1.0, 1.8],
        [0.1790371904, 0.4079684802],
    ),
    "G": (
        {"gkm_model": "whitepaper", "label_type": "pasl", "label_duration": 0.8},
        [1.0, 1.8],
        [0.0, 0.447954383],
    ),
    # the consensus model (Woods 2024 Eq. 2-3), computed independently (docs/physics.md §4.7.2)
    "consensus pCASL": (
        {"gkm_model": "consensus", "label_type": "pcasl", "label_duration": 1.8},
        [2.0, 2.6, 3.6, 4.6],
        [0.8752617543, 1.1247676665, 0.6135557724, 0.334691952],
    ),
    "consensus PASL": (
        {"gkm_model": "consensus", "label_type": "pasl", "label_duration": 0.8},
        [1.0, 1.8],
        [0.1818615216, 0.447954383],
    ),
}
#: docs/physics.md §4.9: CBF 0, aBV 0.01, aBAT 0.5, pCASL τ 1.8, PLD 0.2 and 0.6.
ARTERIAL_DELTA_M = [1.3950893504, 0.0]


def _document(series: dict, signal_time, **image_override) -> dict:
    """The uniform phantom with one control/label asl series per phase, and a ground truth."""
    return {
        "global_configuration": {
            "ground_truth": "hrgt_icbm_2009a_nls_3t",
            "image_override": {**PHANTOM, **image_override},
            "parameter_override": {"lambda_blood_brain": 0.9, "t1_arterial_blood": 1.65},
        },
        "image_series": [
            {
                "series_type": "asl",
                "series_parameters": {
                    "asl_context": "control label",
                    "signal_time": signal_time,
                    "acq_contrast": "se",
                    "echo_time": 0.01,
                    "repetition_time": 5.0,
                    "acq_matrix": [8, 8, 8],
                    "desired_snr": 0.0,
                    **series,
                },
            },
            {"series_type": "ground_truth", "series_parameters": {"acq_matrix": [8, 8, 8]}},
        ],
    }


def _pipeline(document: dict):
    params = load_params(document)
    truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    return build_asl_pipeline(
        params.series[0], SimulationContext(truth), participant_label="01", index=1
    )


def _differences_before_the_cast(pipeline) -> list[float]:
    """control - label of each phase, every voxel in float64 before the float32 cast (a
    uniform phantom: one value everywhere)."""
    values = []
    for volume in range(len(pipeline.series.volumes)):
        filters = pipeline.filters(volume)
        assert isinstance(filters[-1], CastTo)
        image = apply_pipeline(pipeline.start, filters[:-1])
        assert image.data.dtype == np.float64 and np.ptp(image.data) < 1e-9
        values.append(float(image.data.mean()))
    return [control - label for control, label in zip(values[::2], values[1::2])]


def _written_differences(tmp_path, document: dict) -> list[float]:
    out = tmp_path / "ds"
    generate(document, out, validate=False)
    data = np.asarray(nib.load(out / "sub-01" / "perf" / "sub-01_asl.nii.gz").dataobj)
    assert data.dtype == np.float32
    volumes = data.reshape(-1, data.shape[-1]).astype(np.float64)
    np.testing.assert_array_equal(volumes.min(axis=0), volumes.max(axis=0))
    return list(volumes[0, ::2] - volumes[0, 1::2]), volumes[0]


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_develop_vectors_in_float64_before_the_cast(name):
    """E, F, G (and the consensus vectors) to 1e-8 of develop in every voxel."""
    series, signal_time, expected = VECTORS[name]
    pipeline = _pipeline(_document(series, signal_time))
    np.testing.assert_allclose(_differences_before_the_cast(pipeline), expected, rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", ["E", "F", "G"])
def test_develop_vectors_in_the_written_file(tmp_path, name):
    """The written float32 volumes: control - label to float32 precision (two roundings of
    values about 86, each within half an ulp of 2**-17)."""
    series, signal_time, expected = VECTORS[name]
    differences, _ = _written_differences(tmp_path, _document(series, signal_time))
    np.testing.assert_allclose(differences, expected, rtol=0, atol=2.0**-17)


def test_the_arterial_vector_through_the_pipeline(tmp_path):
    """docs/physics.md §4.9: aBV 0.01, aBAT 0.5, CBF 0, pCASL τ 1.8: ΔM 1.3950893504 at PLD
    0.2 (t 2.0) and 0 at PLD 0.6 (t 2.4 >= aBAT + τ); the written difference is ΔM * E2."""
    document = _document(
        {"label_type": "pcasl", "label_duration": 1.8},
        [2.0, 2.4],
        perfusion_rate=0.0,
        abv=0.01,
        abat=0.5,
    )
    pipeline = _pipeline(document)
    assert pipeline.kinetics.model.arterial
    delta_m = [pipeline.kinetics.at(timing).delta_m for timing in pipeline.kinetics.timings]
    assert all(d.ndim == 1 for d in delta_m)  # the built-in's lookup tables
    present = pipeline.context.label_counts > 0
    for value, expected in zip(delta_m, ARTERIAL_DELTA_M):
        np.testing.assert_allclose(value[present], expected, rtol=0, atol=1e-10)
    expected = [value * E2 for value in ARTERIAL_DELTA_M]
    np.testing.assert_allclose(_differences_before_the_cast(pipeline), expected, atol=1e-8)
    differences, _ = _written_differences(tmp_path, document)
    np.testing.assert_allclose(differences, expected, rtol=0, atol=2.0**-17)


def test_the_arterial_component_adds_to_the_tissue_signal_unless_crushed():
    """ΔM with aBV is tissue + arterial exactly; vascular_crushing removes the arterial part;
    aBV 0 everywhere gives today's numbers bit for bit."""
    series = {"label_type": "pcasl", "label_duration": 1.8}
    times = [2.0, 2.6]
    tissue = _pipeline(_document(series, times)).kinetics
    with_art = _pipeline(_document(series, times, abv=0.01, abat=0.5)).kinetics
    crushed = _pipeline(
        _document({**series, "vascular_crushing": True}, times, abv=0.01, abat=0.5)
    ).kinetics
    art_only = _pipeline(_document(series, times, perfusion_rate=0.0, abv=0.01, abat=0.5))
    assert not crushed.model.arterial and not tissue.model.arterial
    for timing in tissue.timings:
        total = with_art.at(timing).delta_m
        np.testing.assert_allclose(
            total,
            tissue.at(timing).delta_m + art_only.kinetics.at(timing).delta_m,
            rtol=1e-15,
            atol=0,
        )
        np.testing.assert_array_equal(crushed.at(timing).delta_m, tissue.at(timing).delta_m)
    zero = _pipeline(_document(series, times, abv=0.0)).kinetics
    assert zero.model.arterial
    for timing in tissue.timings:
        np.testing.assert_array_equal(zero.at(timing).delta_m, tissue.at(timing).delta_m)


def test_abat_defaults_to_the_transit_time_minus_0_3_s():
    """aBV without aBAT: aBAT = Δt - 0.3 s (0.5 s here), so ΔM is the §4.9 vector."""
    pipeline = _pipeline(_document({"label_duration": 1.8}, 2.0, perfusion_rate=0.0, abv=0.01))
    present = pipeline.context.label_counts > 0
    np.testing.assert_allclose(
        pipeline.context.ground_truth.maps["abat"][present], 0.5, rtol=0, atol=1e-15
    )
    np.testing.assert_allclose(
        pipeline.kinetics.delta_m[present], ARTERIAL_DELTA_M[0], rtol=0, atol=1e-10
    )


def test_quipss_ii_cuts_the_bolus_to_ti1():
    """QUIPSS II at TI1 0.6 s on a natural bolus of 1.2 s: the ΔM of a 0.6 s bolus without a
    cut-off (docs/physics.md §4.8); the history records the technique and the width used."""
    times = [1.0, 1.8]
    cut = _pipeline(
        _document(
            {
                "label_type": "pasl",
                "label_duration": 1.2,
                "bolus_cut_off_technique": "QUIPSSII",
                "bolus_cut_off_delay_time": 0.6,
            },
            times,
        )
    )
    short = _pipeline(_document({"label_type": "pasl", "label_duration": 0.6}, times))
    assert cut.kinetics.model.bolus_cut_off == BolusCutOff("QUIPSSII", 0.6)
    for t in times:
        timing = next(x for x in cut.kinetics.timings if x.signal_time == t)
        other = next(x for x in short.kinetics.timings if x.signal_time == t)
        np.testing.assert_array_equal(
            cut.kinetics.at(timing).delta_m, short.kinetics.at(other).delta_m
        )
    record = cut.kinetics.at(cut.kinetics.timings[0]).parameters
    assert record["bolus_cut_off"] == {
        "technique": "QUIPSSII",
        "delay_time": 0.6,
        "end_time": None,
    }
    assert record["bolus_duration"] == 0.6 and record["label_duration"] == 1.2


def test_a_cut_off_after_the_natural_bolus_warns_once():
    """τ_nat 0.5 s < TI1 0.8 s: one warning line naming both; the bolus stays 0.5 s."""
    document = _document(
        {"label_type": "pasl", "label_duration": 0.5, "bolus_cut_off_technique": "Q2TIPS"},
        1.8,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline = _pipeline(document)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert "0.5" in messages[0] and "TI1 = 0.8" in messages[0]
    assert pipeline.kinetics.model.effective_bolus_duration(pipeline.kinetics.timing) == 0.5


@pytest.mark.parametrize(
    "given, kernel",
    [
        ({"type": "gamma"}, Dispersion("gamma", s=DISPERSION_GAMMA_S, p=DISPERSION_GAMMA_P)),
        ({"type": "gamma", "s": 4.0, "p": 0.2}, Dispersion("gamma", s=4.0, p=0.2)),
        ({"type": "gauss", "sigma": 0.15}, Dispersion("gauss", sigma=0.15)),
    ],
)
def test_dispersion_reaches_the_model_on_lookup_tables(given, kernel):
    """The series' dispersion (defaults filled) is the physics' kernel, evaluated on the
    ground truth's lookup tables (one value per tissue), equal to gkm.delta_m's."""
    pipeline = _pipeline(_document({"label_duration": 1.8, "dispersion": given}, 2.6))
    model = pipeline.kinetics.model
    assert model.dispersion == kernel
    delta_m = pipeline.kinetics.delta_m
    assert delta_m.ndim == 1
    expected = gkm.delta_m(
        "pcasl",
        *(np.full(delta_m.shape, PHANTOM[name]) for name in ("perfusion_rate", "transit_time")),
        np.full(delta_m.shape, PHANTOM["t1"]),
        np.full(delta_m.shape, PHANTOM["m0"]),
        label_duration=1.8,
        signal_time=2.6,
        label_efficiency=0.85,
        lambda_blood_brain=0.9,
        t1_arterial_blood=1.65,
        dispersion=kernel,
    )
    np.testing.assert_array_equal(delta_m, expected)
    undispersed = _pipeline(_document({"label_duration": 1.8}, 2.6)).kinetics.delta_m
    assert not np.allclose(delta_m[1:], undispersed[1:])


def test_the_history_and_provenance_record_the_model(tmp_path):
    """The delta_m entry of the provenance names the model and its options."""
    document = _document(
        {"gkm_model": "consensus", "label_type": "pasl", "label_duration": 0.8,
         "bolus_cut_off_technique": "QUIPSS", "bolus_cut_off_delay_time": 0.5},
        [1.0, 1.8],
    )  # fmt: skip
    out = tmp_path / "ds"
    generate(document, out, validate=False)
    provenance = json.loads((out / "code" / "provenance" / "sub-01.json").read_text())
    text = json.dumps(provenance)
    assert '"gkm_model": "consensus"' in text
    assert '"technique": "QUIPSS"' in text and '"arterial_component": false' in text


def test_the_model_runs_on_tables_when_only_a_signal_map_is_dense(monkeypatch):
    """A dense T2 (read by the signal only) no longer makes the kinetic model run voxel by
    voxel: ΔM is computed on the lookup tables of f, Δt, T1, M0 (one value per tissue, what a
    dispersed model needs) and expanded to the grid, with the same numbers."""
    import dataclasses

    calls = []
    real = gkm.delta_m

    def recording(*args, **kwargs):
        calls.append(np.shape(args[1]))
        return real(*args, **kwargs)

    params = load_params(_document({"label_duration": 1.8}, [2.0, 2.6]))
    truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    dense = dataclasses.replace(truth, maps={**truth.maps, "t2": truth.dense("t2")})
    monkeypatch.setattr(gkm, "delta_m", recording)
    pipeline = build_asl_pipeline(
        params.series[0], SimulationContext(dense), participant_label="01", index=1
    )
    assert calls == [(truth.maps["perfusion_rate"].size,)] * 2
    for timing in pipeline.kinetics.timings:
        delta_m = pipeline.kinetics.at(timing).delta_m
        assert delta_m.shape == truth.shape
        expected = real(
            "pcasl",
            *(truth.dense(name) for name in ("perfusion_rate", "transit_time", "t1", "m0")),
            label_duration=1.8,
            signal_time=timing.signal_time,
            label_efficiency=0.85,
            lambda_blood_brain=0.9,
            t1_arterial_blood=1.65,
        )
        np.testing.assert_array_equal(delta_m, expected)
