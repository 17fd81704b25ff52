"""The ``background_suppression`` key of an asl series: what ``true`` and ASLDRO develop's object
stand for, and the rules across keys the schema cannot state (docs/physics.md §5.7).

ASLDRO develop (and MRImageTools, whose object is a subset of develop's) gives the key as
``false`` (none), ``true`` (develop's ``DEFAULT_BS_PARAMS``) or an object. An object with
``inv_pulse_times`` uses those times; one without has them optimised for the T1s of ``t1_opt``
(default: the distinct T1s of the ground truth) ``sat_pulse_time_opt`` (default
``sat_pulse_time``) after the presaturation. :func:`settings` gives the typed
:class:`SuppressionSettings`; :func:`suppression_problems` the cross-key rules (one message
each, warnings flagged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from asldro.params.rules import INVALID, show


def true_object() -> dict[str, Any]:
    """What ``background_suppression: true`` stands for: ASLDRO develop's ``DEFAULT_BS_PARAMS``
    (the values are the physics module's defaults, stated there once)."""
    from asldro.physics import background_suppression as bs  # lazy: asldro.params stays light

    return {
        "sat_pulse_time": bs.DEFAULT_SATURATION_TIME,
        "sat_pulse_time_opt": bs.DEFAULT_OPTIMISATION_SATURATION_TIME,
        "pulse_efficiency": bs.DEFAULT_PULSE_EFFICIENCY,
        "num_inv_pulses": bs.DEFAULT_NUM_INVERSION_PULSES,
        "apply_to_asl_context": list(bs.DEFAULT_APPLY_TO_ASL_CONTEXT),
    }


OPTIMISATION_KEYS = ("t1_opt", "sat_pulse_time_opt", "num_inv_pulses")
"""The keys that only matter when the inversion times are optimised (no ``inv_pulse_times``)."""


@dataclass(frozen=True)
class SuppressionSettings:  # pylint: disable=too-many-instance-attributes  # one per object key
    """The background suppression of an asl series, as the parameter file gives it (times in s
    before the excitation of the reference slice; docs/physics.md §5.7).

    ``inversion_times`` None: optimised (``num_inversion_pulses`` of them, for ``t1_opt`` or the
    ground truth's T1s, ``optimisation_saturation_time`` after the presaturation).
    ``apply_to`` lists the asl_context tokens whose static signal is suppressed.
    """

    saturation_time: float
    inversion_times: tuple[float, ...] | None
    pulse_efficiency: float | str
    num_inversion_pulses: int
    t1_opt: tuple[float, ...] | None
    optimisation_saturation_time: float | None
    apply_to: tuple[str, ...]
    alpha_bs_per_pulse: float | None

    @property
    def optimised(self) -> bool:
        """Whether the inversion times are chosen by the optimiser."""
        return self.inversion_times is None

    @property
    def latest_pulse(self) -> float:
        """The earliest pulse before the excitation (s): the longest time of the module."""
        times = self.inversion_times or ()
        return max((self.saturation_time, *times))


def settings(value: bool | Mapping[str, Any] | None) -> SuppressionSettings | None:
    """The typed settings of a resolved ``background_suppression`` value, None for false."""
    if value is None or value is False:
        return None
    from asldro.physics import background_suppression as bs  # lazy, as in true_object

    given: Mapping[str, Any] = value if isinstance(value, Mapping) else true_object()
    times = given.get("inv_pulse_times")
    t1_opt = given.get("t1_opt")
    saturation = float(given.get("sat_pulse_time", bs.DEFAULT_SATURATION_TIME))
    optimisation = given.get("sat_pulse_time_opt")
    extra = given.get("alpha_bs_per_pulse")
    return SuppressionSettings(
        saturation_time=saturation,
        inversion_times=None if times is None else tuple(float(t) for t in times),
        pulse_efficiency=given.get("pulse_efficiency", bs.DEFAULT_PULSE_EFFICIENCY),
        num_inversion_pulses=int(given.get("num_inv_pulses", bs.DEFAULT_NUM_INVERSION_PULSES)),
        t1_opt=None if t1_opt is None else tuple(float(t) for t in t1_opt),
        optimisation_saturation_time=None if optimisation is None else float(optimisation),
        apply_to=tuple(given.get("apply_to_asl_context", bs.DEFAULT_APPLY_TO_ASL_CONTEXT)),
        alpha_bs_per_pulse=None if extra is None else float(extra),
    )


def _slice_span(resolved: Mapping[str, Any]) -> float:
    """The last slice time of a 2D series (s; 0 for 3D or when it cannot be known here): the
    series' SliceTiming with the catalog's defaults for the keys not given."""
    # pylint: disable-next=import-outside-toplevel  # slices imports the catalog, as this does
    from asldro.params.slices import DEFAULT_SLICE_READOUT_TIME, SLICE_ORDERS, series_slice_timing

    def given(key: str, default: Any) -> Any:
        value = resolved.get(key)
        return default if value is None else value

    try:
        timing = series_slice_timing(
            given("mr_acq_type", "3D"),
            resolved["acq_matrix"][2],
            resolved.get("slice_timing"),
            given("slice_readout_time", DEFAULT_SLICE_READOUT_TIME),
            given("slice_order", SLICE_ORDERS[0]),
            given("multiband_factor", 1),
        )
    except (KeyError, TypeError, ValueError, IndexError):  # reported by the slice rules
        return 0.0
    return max(timing) if timing else 0.0


# pylint: disable-next=too-many-locals,too-many-branches  # one check per rule of the docstring
def suppression_problems(resolved: Mapping[str, Any], where: str) -> list[tuple[str, str, bool]]:
    """``(key, message, is_warning)`` for the rules across keys of a suppressed asl series:

    * ``acq_contrast`` ir is refused (its inversion would be one more pulse of the train);
    * every suppressed volume's TR must hold the module (TR >= the earliest pulse before the
      excitation, plus the last slice time in 2D: the steady state of docs/physics.md (5.7));
    * ``sat_pulse_time_opt`` must not exceed ``sat_pulse_time`` (the times are shifted by the
      difference, which must be >= 0);
    * warnings: optimisation keys beside ``inv_pulse_times`` (ignored); suppressed m0scan volumes
      (they cannot calibrate); a presaturation after the start of labelling (its effect on ΔM is
      not modelled, docs/physics.md §5.7).
    """
    value = resolved.get("background_suppression")
    if value is INVALID or value is None or value is False:
        return []
    found = settings(value)
    assert found is not None
    key = "background_suppression"
    here = f"{where}.{key}"
    out: list[tuple[str, str, bool]] = []
    if resolved.get("acq_contrast") == "ir":
        out.append(
            (
                key,
                f"{here}: background suppression with acq_contrast 'ir' is not modelled (the "
                "inversion recovery preparation would be one more inversion of the background "
                "suppression train); use 'se' or 'ge' and add the inversion to inv_pulse_times",
                False,
            )
        )
    if (
        found.optimisation_saturation_time is not None
        and found.optimisation_saturation_time > found.saturation_time
    ):
        out.append(
            (
                key,
                f"{here}.sat_pulse_time_opt: {show(found.optimisation_saturation_time)} must be <= "
                f"sat_pulse_time ({show(found.saturation_time)}): the optimised times are "
                "shifted by their difference",
                False,
            )
        )
    if found.inversion_times is not None and isinstance(value, Mapping):
        ignored = [name for name in OPTIMISATION_KEYS if name in value]
        if ignored:
            out.append(
                (
                    key,
                    f"{here}: {', '.join(ignored)} ignored: inv_pulse_times gives the inversion "
                    "times (they are optimised only without it)",
                    True,
                )
            )
    tokens = resolved.get("asl_context")
    repetition = resolved.get("repetition_time")
    if isinstance(tokens, str) and isinstance(repetition, list):
        span = _slice_span(resolved)
        needed = found.latest_pulse + span
        for index, (token, tr) in enumerate(zip(tokens.split(" "), repetition)):
            if token in found.apply_to and isinstance(tr, (int, float)) and tr < needed:
                slices = f" + the last slice time {show(span)} s" if span else ""
                out.append(
                    (
                        "repetition_time",
                        f"{where}.repetition_time[{index}]: {show(tr)} s is shorter than the "
                        f"background suppression module of its {token} volume (earliest pulse "
                        f"{show(found.latest_pulse)} s before the excitation{slices}); make the "
                        "TR longer or the pulses later",
                        False,
                    )
                )
                break
        if "m0scan" in found.apply_to and "m0scan" in tokens.split(" "):
            out.append(
                (
                    key,
                    f"{here}.apply_to_asl_context: the m0scan volumes are background "
                    "suppressed, so they cannot calibrate CBF (M0Type still says Included)",
                    True,
                )
            )
    signal_times = resolved.get("signal_time")
    times = signal_times if isinstance(signal_times, list) else [signal_times]
    numbers = [t for t in times if isinstance(t, (int, float)) and not isinstance(t, bool)]
    if numbers and max(numbers) > found.saturation_time:
        out.append(
            (
                key,
                f"{here}: the presaturation ({show(found.saturation_time)} s before the "
                f"excitation) comes after the start of labelling (signal_time up to "
                f"{show(max(numbers))} s); its effect on the label is not modelled (exact where "
                "the label arrives after it, docs/physics.md §5.7)",
                True,
            )
        )
    return out
