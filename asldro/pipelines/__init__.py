"""Series pipelines: parameters + ground truth -> simulated series as Images (docs/design.md).

``generate_series`` runs every series of a parameter file in list order for one participant.
Each series is a pipeline builder (``build_asl_pipeline``, ``build_structural_pipeline``,
``build_ground_truth_pipeline``) returning the filters of ``asldro.pipelines.filters`` each
volume (or ground-truth quantity) goes through.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Sequence

from asldro.groundtruth.types import GroundTruth
from asldro.jsonable import to_jsonable
from asldro.params.types import (
    AslSeries,
    DroParams,
    GroundTruthSeries,
    Series,
    StructuralSeries,
)
from asldro.pipelines.asl import simulate_asl
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.finite import quiet_float_errors, require_finite
from asldro.pipelines.groundtruth import series_grid_derivatives, simulate_ground_truth
from asldro.pipelines.records import AslAcquisition, StructuralAcquisition
from asldro.pipelines.structural import simulate_structural
from asldro.pipelines.types import SeriesResult

__all__ = [
    "generate_series",
    "streamed_series",
    "provenance",
    "SeriesResult",
    "SimulationContext",
]

_STREAMS = (
    "numpy.random.Generator(PCG64(SeedSequence(entropy=seed, spawn_key=(label, series, "
    "volume)))), label = int.from_bytes(label.encode('utf-8'), 'big')"
)
_SESSION_STREAMS = (
    "numpy.random.Generator(PCG64(SeedSequence(entropy=seed, spawn_key=(label, series, "
    "volume)))), label = int.from_bytes((label + '_ses-' + session).encode('utf-8'), 'big')"
)
#: The noise facts of a series' record that the run provenance lists, in this order.
NOISE_FACTS = ("random_seed", "seeds", "noise_sigma", "noise_reference", "desired_snr")


def generate_series(
    params: DroParams,
    ground_truth: GroundTruth | None = None,
    *,
    participant_label: str = "01",
    seed: int | None = None,
    threads: int | None = None,
    session: str | None = None,
) -> tuple[SeriesResult, ...]:
    """Simulate every series of ``params`` for one participant (docs/physics.md §1), in
    ``session`` (a BIDS label; None without sessions): each session draws its own noise
    (docs/physics.md §7.3).

    ``ground_truth`` is loaded from the parameters when not given. ``seed`` replaces every
    series' ``random_seed``. ``threads`` is the CPUs the participant may use
    (``asldro.resources.thread_budget``: default ``ASLDRO_THREADS``, else the CPUs available);
    the result does not depend on it. Same inputs give bit-identical arrays. The caches of the
    simulation are released before returning. Raises
    :class:`~asldro.pipelines.finite.SimulationError` when a simulated value is not finite.
    """
    with streamed_series(
        params,
        ground_truth,
        participant_label=participant_label,
        seed=seed,
        threads=threads,
        session=session,
    ) as results:
        return tuple(results)


@contextmanager
def streamed_series(
    params: DroParams,
    ground_truth: GroundTruth | None = None,
    *,
    participant_label: str = "01",
    seed: int | None = None,
    threads: int | None = None,
    stream: bool = False,
    session: str | None = None,
) -> Iterator[tuple[SeriesResult, ...]]:
    """:func:`generate_series` as a ``with`` block (``session``: as there); with ``stream``
    the image of every asl series is a :class:`~asldro.pipelines.streamed.StreamedImage`
    whose volumes are simulated (and checked finite) as the writer reads them inside the
    block, so that a series' peak memory does not grow with its volumes (issue 16 item 1) —
    on a partial-volume ground truth (the built-ins'); on a label-map ground truth the asl
    series stay in memory, as the order of simulation may change the rounding there. The
    other series are simulated and checked on entry. The caches are released when the block
    ends."""
    from asldro.resources import thread_budget

    if ground_truth is None:
        from asldro.groundtruth import load_ground_truth

        ground_truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    results = []
    with SimulationContext(
        ground_truth, threads=thread_budget(threads), session=session
    ) as context:
        for position, series in enumerate(params.series, start=1):
            with quiet_float_errors():  # a non-finite result is refused by require_finite
                result = _simulate(context, series, position, participant_label, seed, stream)
            require_finite(result)
            results.append(result)
        yield tuple(results)


def _simulate(
    context: SimulationContext,
    series: Series,
    position: int,
    participant_label: str,
    seed: int | None,
    stream: bool = False,
) -> SeriesResult:
    """One series of a participant, by its type; an asl or structural series with the
    ground-truth derivatives at its grid (issue 13 item 2)."""
    if isinstance(series, AslSeries):
        result = simulate_asl(
            context,
            series,
            position,
            participant_label=participant_label,
            seed=seed,
            # streamed only where the values cannot depend on when the volumes are simulated:
            # on a partial-volume ground truth every lookup-table volume is acquired through
            # its label fractions; on label maps a rotated volume is acquired from its lookup
            # table unless the fractions of its motion are already cached (by an earlier
            # series), so those series are simulated in their turn, as before
            streamed=stream and context.partial_volume,
        )
        return series_grid_derivatives(context, result, series.acq_matrix, series.volumes[0].motion)
    if isinstance(series, StructuralSeries):
        result = simulate_structural(
            context, series, position, participant_label=participant_label, seed=seed
        )
        return series_grid_derivatives(context, result, series.acq_matrix, series.motion)
    if isinstance(series, GroundTruthSeries):
        return simulate_ground_truth(context, series, position)
    raise TypeError(f"unknown series type {type(series).__name__}")  # pragma: no cover


def provenance(
    results: Sequence[SeriesResult],
    *,
    participant_label: str,
    seed: int | None,
    session: str | None = None,
) -> dict[str, Any]:
    """JSON-able record of how each series was made: seeds, noise sigma and reference, history
    (the streams of ``session`` when given: their label part names it)."""
    series = []
    for result in results:
        for name, image in result.images.items():
            record = result.records[name]
            noisy = isinstance(record, (AslAcquisition, StructuralAcquisition))
            keep = NOISE_FACTS if noisy else ()
            series.append(
                {
                    "series_index": result.index,
                    "series_type": result.series_type,
                    "description": result.description,
                    "image": name,
                    **{fact: to_jsonable(record.value(fact)) for fact in keep},
                    "history": to_jsonable(list(image.history)),
                }
            )
    return {
        "participant_label": participant_label,
        "seed_override": seed,
        "noise_definition": (
            "sigma = mean |reference| inside the tissue mask (seg_label > 0) on the "
            "ground-truth grid / desired_snr; complex Gaussian noise of that sigma per channel "
            "added on the acquisition grid (asl reference: M0 map; structural: noiseless signal)"
        ),
        "streams": _STREAMS if session is None else _SESSION_STREAMS,
        "series": series,
    }
