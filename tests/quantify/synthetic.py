"""Synthetic BIDS ASL datasets written directly by the tests (not by asldro's writer): NIfTI,
sidecar and aslcontext built from the physics functions at known CBF / ATT maps, with the
per-volume PostLabelingDelay / LabelingDuration arrays BIDS requires (0 for m0scan rows).

Images are written as float64 so that the fit is tested, not float32 rounding."""

from __future__ import annotations

import importlib.util
import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from asldro.physics import gkm

SHAPE = (5, 4, 3)
LAMBDA, T1B, ALPHA = 0.9, 1.65, 0.85
STATIC = 0.9  # control = STATIC * M0, label = control - ΔM (any static level works)


def models_available() -> None:
    """Fail clearly when asldro.physics.gkm.delta_m lacks the agreed ``model=`` keyword (the
    white-paper and consensus models of issue 11 item 3)."""
    assert "model" in inspect.signature(gkm.delta_m).parameters, (
        "asldro.physics.gkm.delta_m has no model= keyword yet: the whitepaper and consensus "
        "kinetic models (issue 11 item 3) are needed for this test"
    )


def arterial_available() -> None:
    """Fail clearly when asldro.physics.arterial (issue 11 item 5) is not there yet."""
    assert importlib.util.find_spec("asldro.physics.arterial") is not None, (
        "asldro.physics.arterial does not exist yet: the arterial component (issue 11 item 5) "
        "is needed for this test"
    )


def tissue_delta_m(model: str, label_type: str, cbf, att, t1, m0, tau, t) -> np.ndarray:
    """ΔM from the physics function of ``model`` (``full`` is its default)."""
    keywords = {"model": model} if model != "full" else {}
    if model != "full":
        models_available()
    return gkm.delta_m(
        label_type,
        cbf,
        att,
        t1,
        m0,
        label_duration=tau,
        signal_time=t,
        label_efficiency=ALPHA,
        lambda_blood_brain=LAMBDA,
        t1_arterial_blood=T1B,
        **keywords,
    )


def arterial_delta_m(label_type: str, abv, abat, m0, tau, t) -> np.ndarray:
    """ΔM of the arterial component from its physics function."""
    from asldro.physics.arterial import arterial_delta_m as physics

    return physics(
        label_type,
        abv,
        abat,
        m0,
        label_duration=tau,
        signal_time=t,
        label_efficiency=ALPHA,
        lambda_blood_brain=LAMBDA,
        t1_arterial_blood=T1B,
    )


def truth_maps(seed: int, *, att_range=(0.5, 1.6), shape=SHAPE) -> dict[str, np.ndarray]:
    """Known maps: CBF 10-90, ATT in ``att_range``, M0 50-150, and one background voxel row
    (M0 = 0, CBF = 0)."""
    rng = np.random.default_rng(seed)
    maps = {
        "cbf": rng.uniform(10.0, 90.0, shape),
        "att": rng.uniform(*att_range, shape),
        "m0": rng.uniform(50.0, 150.0, shape),
    }
    for name in maps:
        maps[name][0, 0, :] = 0.0
    return maps


@dataclass
class Protocol:
    """One run's acquisition: label type, PLDs (s) and labelling duration(s) per PLD (PASL:
    TI and the bolus duration TI1), pairs per PLD (control/label, or deltam volumes), m0scan
    volumes; ``cbf``: one cbf volume per value d after each PLD's pairs, CBF * (1 + d);
    ``norf``: noise-only volumes at the end (PLD and labelling duration 0);
    ``delta_m_scale`` multiplies ΔM (e.g. a background-suppression attenuation); ``static``
    is the control's signal over M0."""

    label_type: str = "PCASL"
    plds: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
    durations: tuple[float, ...] | float = 1.8
    pairs: int = 2
    m0_volumes: int = 1
    deltam: bool = False
    sidecar: dict[str, Any] = field(default_factory=dict)
    cbf: tuple[float, ...] = ()
    norf: int = 0
    delta_m_scale: float = 1.0
    static: float | np.ndarray = STATIC

    def duration_of(self, index: int) -> float:
        """τ of PLD ``index``."""
        if isinstance(self.durations, (int, float)):
            return float(self.durations)
        return float(self.durations[index])

    def signal_time(self, index: int) -> float:
        """t of PLD ``index`` (PASL: TI)."""
        if self.label_type == "PASL":
            return self.plds[index]
        return self.duration_of(index) + self.plds[index]


def delta_m_series(
    protocol: Protocol, maps: dict[str, np.ndarray], model: str, t1: float | np.ndarray
) -> list[np.ndarray]:
    """ΔM of each PLD of ``protocol`` at the truth ``maps`` (tissue, plus the arterial component
    when ``maps`` has ``abv`` and ``abat``)."""
    kind = protocol.label_type.lower()
    series = []
    for index in range(len(protocol.plds)):
        tau, t = protocol.duration_of(index), protocol.signal_time(index)
        dm = tissue_delta_m(model, kind, maps["cbf"], maps["att"], t1, maps["m0"], tau, t)
        if "abv" in maps:
            dm = dm + arterial_delta_m(kind, maps["abv"], maps["abat"], maps["m0"], tau, t)
        series.append(np.asarray(dm, dtype=np.float64))
    return series


def write_dataset(
    root: Path,
    protocol: Protocol,
    maps: dict[str, np.ndarray],
    *,
    model: str = "full",
    t1: float | np.ndarray = 1.3,
    subject: str = "01",
    affine: np.ndarray | None = None,
) -> Path:
    """Write a one-run BIDS ASL dataset at ``root``; returns the ASL image path."""
    affine = np.diag([3.0, 3.0, 4.0, 1.0]) if affine is None else affine
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": "synthetic ASL", "BIDSVersion": "1.10.1", "DatasetType": "raw"})
    )
    perf = root / f"sub-{subject}" / "perf"
    perf.mkdir(parents=True, exist_ok=True)
    volumes, types, plds, durations = [], [], [], []
    m0 = maps["m0"]
    for _ in range(protocol.m0_volumes):
        volumes.append(m0)
        types.append("m0scan")
        plds.append(0.0)
        durations.append(0.0)
    for index, dm in enumerate(delta_m_series(protocol, maps, model, t1)):
        for _ in range(protocol.pairs):
            if protocol.deltam:
                volumes.append(protocol.delta_m_scale * dm)
                types.append("deltam")
            else:
                control = protocol.static * m0
                volumes += [control, control - protocol.delta_m_scale * dm]
                types += ["control", "label"]
            count = 1 if protocol.deltam else 2
            plds += [protocol.plds[index]] * count
            durations += [protocol.duration_of(index)] * count
        for deviation in protocol.cbf:
            volumes.append(maps["cbf"] * (1.0 + deviation))
            types.append("cbf")
            plds.append(protocol.plds[index])
            durations.append(protocol.duration_of(index))
    noise = np.random.default_rng(99)
    for _ in range(protocol.norf):
        volumes.append(noise.rayleigh(5.0, m0.shape))
        types.append("noRF")
        plds.append(0.0)
        durations.append(0.0)
    data = np.stack(volumes, axis=-1)
    stem = f"sub-{subject}"
    nib.save(nib.Nifti1Image(data, affine), perf / f"{stem}_asl.nii.gz")
    (perf / f"{stem}_aslcontext.tsv").write_text("volume_type\n" + "".join(f"{t}\n" for t in types))
    single = (
        len(set(protocol.plds)) == 1
        and len({protocol.duration_of(i) for i in range(len(protocol.plds))}) == 1
    )
    sidecar: dict[str, Any] = {
        "ArterialSpinLabelingType": protocol.label_type,
        "PostLabelingDelay": protocol.plds[0] if single else plds,
        "BackgroundSuppression": False,
        "M0Type": "Included" if protocol.m0_volumes else "Absent",
        "TotalAcquiredPairs": protocol.pairs * len(protocol.plds),
        "RepetitionTimePreparation": 5.0,
        "MagneticFieldStrength": 3,
        "MRAcquisitionType": "3D",
        "EchoTime": 0.01,
        "LabelingEfficiency": ALPHA,
    }
    if protocol.label_type == "PASL":
        sidecar.update(
            BolusCutOffFlag=True,
            BolusCutOffTechnique="QUIPSSII",
            BolusCutOffDelayTime=protocol.duration_of(0),
        )
    else:
        sidecar["LabelingDuration"] = protocol.duration_of(0) if single else durations
    sidecar.update(protocol.sidecar)
    sidecar = {key: value for key, value in sidecar.items() if value is not None}
    (perf / f"{stem}_asl.json").write_text(json.dumps(sidecar, indent=1))
    return perf / f"{stem}_asl.nii.gz"


def read_map(path: Path) -> np.ndarray:
    """A written map as float64."""
    return np.asarray(nib.load(str(path)).dataobj, dtype=np.float64)
