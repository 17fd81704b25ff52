"""The engine's front: parameters in, a BIDS dataset out (docs/design.md, "The flow").

``generate`` is what ``asldro generate`` calls; ``generate_participants`` is the one path that
writes participants (in-process or in a process pool), used by ``generate`` and by the BIDS-App's
participant level; ``generate_participant`` writes one subject.
"""

from __future__ import annotations

import contextlib
import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, cast

from asldro.interrupts import deferred_signals, worker_signals
from asldro.options import (
    DEFAULT_PARTICIPANT_LABEL,
    check_process_count,
    participant_labels as clean_labels,
    session_labels,
)
from asldro.output import ARCHIVE_SUFFIXES, OutputError, building, commit, plan_output
from asldro.params.types import DroParams
from asldro.resources import thread_budget, threads_per_process, worker_processes
from asldro.warning_lines import call_collecting_warnings, reissue

__all__ = [
    "ARCHIVE_SUFFIXES",
    "GenerateResult",
    "OutputError",
    "as_params",
    "generate",
    "generate_participant",
    "generate_participants",
    "load_params_ground_truth",
    "participant_document",
    "participant_labels_for",
    "sessions_for",
]


@dataclass(frozen=True)
class GenerateResult:
    """What ``generate`` did: the output folder or archive, participants, validation report."""

    output: Path
    participants: tuple[str, ...]
    validation: Any = None


def as_params(params: DroParams | Mapping[str, Any] | str | os.PathLike | None) -> DroParams:
    """Load ``params`` (a DroParams, a parsed dict, a path, or None for the defaults)."""
    from asldro.params import default_params, load_params

    if isinstance(params, DroParams):
        return params
    return load_params(default_params() if params is None else params)


def participant_labels_for(params: DroParams, given: Sequence[str] | None) -> tuple[str, ...]:
    """The participants to generate: the labels given (on the command line, without ``sub-``,
    checked), else the parameter file's ``global_configuration.subject_label``, else
    :data:`~asldro.options.DEFAULT_PARTICIPANT_LABEL` (both front doors use this one rule)."""
    labels = clean_labels(given)
    if labels:
        return labels
    return (params.global_config.subject_label or DEFAULT_PARTICIPANT_LABEL,)


def sessions_for(params: DroParams, given: Sequence[str] | None) -> tuple[str, ...]:
    """The test–retest sessions of each participant (docs/bids.md §1.1): the labels ``given``
    (without ``ses-``, checked: ``UsageError``), or, when None, the parameter file's
    ``global_configuration.cohort.sessions``; empty: no session level."""
    if given is None:
        cohort = getattr(params.global_config, "cohort", None)  # the cohort key, when parsed
        given = tuple(getattr(cohort, "sessions", None) or ())
    return session_labels(given)


def _session_inputs(
    params: DroParams, ground_truth: Any, label: str, session: str | None, seed: int | None
) -> tuple[DroParams, Any, Mapping[str, Any], list[Any] | None]:
    """The parameters and ground truth participant ``label`` is simulated with in ``session``
    (None without sessions), the record of what was drawn for it (written under ``cohort`` in
    its provenance when not empty) and its participants.tsv columns (None without a cohort):
    the cohort's draws (:func:`asldro.cohort.participant_setup`: the participant's physiology,
    the session's motion); without a cohort the inputs as given."""
    if params.global_config.cohort is None:
        return params, ground_truth, {}, None
    from asldro.cohort import participant_setup

    setup = participant_setup(params, ground_truth, label, seed=seed, session=session)
    return setup.params, setup.ground_truth, setup.record, list(setup.columns)


def load_params_ground_truth(params: DroParams) -> Any:
    """The ground truth of ``params`` (``GroundTruthError``, exit 65, when it cannot be loaded);
    loading it before the output is touched is how both front doors check it up front. With a
    cohort (docs/cohort.md) it is the base ground truth, without lesions
    (:func:`asldro.groundtruth.load_base_ground_truth`): each participant's setup
    (:func:`asldro.cohort.participant_setup`) puts in its tissue values, then the lesions."""
    from asldro.groundtruth import load_base_ground_truth, load_ground_truth

    if params.global_config.cohort is not None:
        # the lesions and the default abat follow each participant's own tissue values
        return load_base_ground_truth(params.global_config.ground_truth, params.global_config)
    return load_ground_truth(params.global_config.ground_truth, params.global_config)


def participant_document(
    params: DroParams, seed: int | None, label: str | None = None
) -> dict[str, Any]:
    """The resolved parameters a participant was made with, as written to
    ``code/sub-<label>_dro_params.json``: ``seed`` (``--seed``) replaces every series'
    ``random_seed`` and a cohort's ``seed``, and the participant's label replaces a
    ``subject_label``, so that the file alone reproduces the participant."""
    document = copy.deepcopy(dict(params.resolved))
    settings = document.get("global_configuration")
    if seed is not None:
        for series in document.get("image_series") or ():
            parameters = series.get("series_parameters") if isinstance(series, dict) else None
            if isinstance(parameters, dict) and "random_seed" in parameters:
                parameters["random_seed"] = seed
        cohort = settings.get("cohort") if isinstance(settings, dict) else None
        if isinstance(cohort, dict):
            cohort["seed"] = seed
    if label is not None and isinstance(settings, dict) and "subject_label" in settings:
        settings["subject_label"] = label
    return document


def generate_participant(
    params: DroParams,
    output_dir: str | os.PathLike,
    label: str,
    *,
    seed: int | None = None,
    ground_truth: Any = None,
    threads: int | None = None,
    sessions: Sequence[str] = (),
) -> list[Path]:
    """Simulate every series for participant ``label`` and write ``sub-<label>`` atomically.

    ``seed`` replaces every series' ``random_seed`` when given; the noise streams are derived
    from (seed, label, series, volume), so a label always reproduces bit for bit.
    ``ground_truth`` is the loaded ground truth of ``params`` (loaded here when None);
    ``threads`` the CPUs this participant may use to simulate and to compress its images
    (``asldro.resources.thread_budget``). With ``sessions`` (BIDS labels, docs/bids.md §1.1)
    every series is simulated and written once per session, one session after another (the
    peak memory is one session's), into ``sub-<label>/ses-<session>/``; each session's noise
    streams name it (docs/physics.md §7.3). With a cohort (docs/cohort.md) the participant's
    draws (:func:`asldro.cohort.participant_setup`, through :func:`_session_inputs`) are
    applied first and recorded in its provenance (``cohort``, and ``participant.columns`` for
    participants.tsv). Returns the files written.
    """
    from asldro.bids.writer import participant_build

    threads = thread_budget(threads)  # once: the simulation and the gzip share it
    if ground_truth is None:
        ground_truth = load_params_ground_truth(params)
    columns: list[Any] | None = None
    with participant_build(Path(output_dir), label, threads=threads) as build:
        for session in tuple(sessions) or (None,):
            columns = _add_session(build, params, ground_truth, (label, session), seed, threads)
        build.finish(
            resolved_params=participant_document(params, seed, label),
            ground_truth_description=describe_ground_truth(params),
            participant=None if columns is None else {"columns": columns},
        )
    return build.trees.written()


def _add_session(
    build: Any,
    params: DroParams,
    ground_truth: Any,
    who: tuple[str, str | None],
    seed: int | None,
    threads: int,
) -> list[Any] | None:
    """Simulate the series of participant ``who[0]`` in session ``who[1]`` (None: without
    sessions) on ``threads`` CPUs and write them into ``build`` (a
    :class:`~asldro.bids.writer.ParticipantBuild`); the images are released on return, before
    the next session is simulated. Returns the participant's participants.tsv columns (None
    without a cohort)."""
    from asldro.output import m0_pairs
    from asldro.pipelines import provenance, streamed_series

    label, session = who
    inputs = _session_inputs(params, ground_truth, label, session, seed)
    # the asl volumes are simulated as they are written (issue 16 item 1): the provenance,
    # which holds their history, is made once they are
    with streamed_series(
        inputs[0],
        inputs[1],
        participant_label=label,
        seed=seed,
        threads=threads,
        stream=True,
        session=session,
    ) as results:
        build.add(
            results,
            m0_pairs=m0_pairs(inputs[0]),
            provenance=lambda: provenance(
                results, participant_label=label, seed=seed, session=session
            ),
            session=session,
            record=inputs[2],
        )
    return inputs[3]


def describe_ground_truth(params: DroParams) -> str:
    """One line naming the ground truth the dataset was simulated from."""
    source = params.global_config.ground_truth
    if source.name:
        return f"built-in ground truth {source.name} (ICBM 2009a nonlinear symmetric templates)"
    if source.subject is not None:
        from asldro.groundtruth.maps import describe

        return describe(source.subject, full_paths=False)
    return f"ground truth read from {Path(cast(Path, source.nifti)).name}"  # not a built-in


def generate_participants(
    params: DroParams,
    dataset: str | os.PathLike,
    labels: Sequence[str],
    *,
    seed: int | None,
    n_procs: int,
    ground_truth: Any = None,
    on_written: Callable[[str], None] | None = None,
    threads: int | None = None,
    sessions: Sequence[str] = (),
    pages: ReportPages | None = None,
) -> dict[str, str]:
    """Write every participant of ``labels`` (each with every one of ``sessions``, none by
    default: :func:`generate_participant`) into ``dataset``: in this process, or in
    ``n_procs`` worker processes when there are several labels (fork: the loaded ground truth is
    shared). ``on_written(label)`` is called as each one is complete. ``threads`` is the CPUs
    the whole run may use (``asldro.resources.thread_budget``: default ``ASLDRO_THREADS``, else
    the CPUs available to the process), shared by the worker processes.

    ``pages``: worker processes also compose the report page of each participant they wrote
    (:func:`asldro.report.participant_pages`), so that the pages of a cohort are composed in
    parallel (issue 16); returns them (path in the report -> HTML; empty in this process,
    where :func:`asldro.report.write_reports` composes them with the images read ahead).

    On any failure, SIGTERM or SIGINT the workers are killed at once (no participant is
    finished after it) and what they left is removed; the error propagates. Each participant's
    random streams come from (seed, label), so the result does not depend on the parallelism.
    """
    check_process_count(n_procs)
    workers = worker_processes(n_procs, len(labels))
    each = threads_per_process(thread_budget(threads), workers)
    if workers == 1:
        for label in labels:
            generate_participant(
                params,
                dataset,
                label,
                seed=seed,
                ground_truth=ground_truth,
                threads=each,
                sessions=sessions,
            )
            if on_written is not None:
                on_written(label)
        return {}
    from functools import partial

    job = partial(
        _participant_and_page,
        params,
        str(dataset),
        seed=seed,
        threads=each,
        sessions=tuple(sessions),
        pages=pages,
    )
    return _generate_in_pool(job, labels, (workers, Path(dataset)), on_written)


@dataclass(frozen=True)
class ReportPages:
    """Report pages composed where the participants are written (:func:`generate_participants`):
    their validation section says the validation is to come (``validated``) or skipped."""

    validated: bool


def _participant_and_page(
    params: DroParams,
    dataset: str,
    label: str,
    *,
    seed: int | None,
    threads: int,
    sessions: tuple[str, ...],
    pages: ReportPages | None,
) -> dict[str, str]:
    """:func:`generate_participant`, then (with ``pages``) its report page (a worker's job)."""
    generate_participant(params, dataset, label, seed=seed, threads=threads, sessions=sessions)
    if pages is None:
        return {}
    from asldro.report import participant_pages

    return participant_pages(dataset, [label], validated=pages.validated, threads=threads)


def _generate_in_pool(
    job: Callable[[str], dict[str, str]],
    labels: Sequence[str],
    workers_dataset: tuple[int, Path],
    on_written: Callable[[str], None] | None,
) -> dict[str, str]:
    """``job(label)`` (:func:`_participant_and_page`) for every label in
    ``workers_dataset[0]`` worker processes writing into the dataset ``workers_dataset[1]``;
    ``on_written(label)`` as each is done. Returns the report pages the jobs composed."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    workers, dataset = workers_dataset
    composed: dict[str, str] = {}
    pool = ProcessPoolExecutor(max_workers=workers, initializer=worker_signals)
    try:
        futures = {pool.submit(call_collecting_warnings, job, label): label for label in labels}
        for done in as_completed(futures):
            page, collected = done.result()
            reissue(collected)  # the workers' warnings, shown once by the parent
            composed.update(page)
            if on_written is not None:
                on_written(futures[done])
    except BaseException:
        _stop_workers(pool, dataset)
        raise
    pool.shutdown()
    return composed


def _stop_workers(pool: Any, dataset: Path) -> None:
    """Kill the pool's worker processes now (not after their current participant) and remove
    the temporary folders they leave."""
    from asldro.bids.dataset import remove_stale_temporaries

    with deferred_signals():
        kill = getattr(pool, "kill_workers", None)  # Python >= 3.14
        # pylint: disable-next=protected-access  # before 3.14 the workers are only there
        processes = list((getattr(pool, "_processes", None) or {}).values())
        if kill is not None:
            kill()
        for process in processes:
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        for process in processes:
            process.join()
        remove_stale_temporaries(dataset)


def preflight(
    params: DroParams,
    folder: Path,
    labels: Sequence[str],
    n_procs: int,
    max_memory: int | None,
    threads: int,
    *,
    seed: int | None = None,
    sessions: Sequence[str] = (),
) -> Any:
    """The checks both front doors run before touching the output: load (and so validate) the
    ground truth, draw every participant of a cohort (``seed``: ``--seed``) and refuse what
    the ground truth cannot take (:func:`asldro.cohort.check_cohort`), estimate the peak memory
    (of ``n_procs`` processes sharing ``threads`` CPUs; the sessions of a participant are
    simulated one after another, so they do not add to it) against the limit, and check that
    every file name the participants will get (in each of ``sessions``) fits the file system
    under ``folder``; a background-suppressed series must have an M0. Returns the ground truth
    (with a cohort the base one, :func:`load_params_ground_truth`)."""
    from asldro.cohort import check_cohort
    from asldro.output import check_participant_names
    from asldro.pipelines.calibration import check_suppressed_series_calibrated
    from asldro.pipelines.memory import check_memory

    ground_truth = load_params_ground_truth(params)
    # with a cohort: a participant's own parameters and ground truth (the one with a lesion)
    checked, truth = check_cohort(params, ground_truth, labels, seed)
    check_suppressed_series_calibrated(checked, truth)
    check_memory(
        checked,
        participants=len(labels),
        parallel=n_procs,
        max_memory=max_memory,
        ground_truth=truth,
        threads=threads,
    )
    check_participant_names(folder, checked, truth, labels, sessions)
    return ground_truth


# pylint: disable-next=too-many-locals  # the public API's documented keyword arguments
def generate(
    params: DroParams | Mapping[str, Any] | str | os.PathLike | None,
    output: str | os.PathLike,
    *,
    participant_labels: Sequence[str] | None = None,
    seed: int | None = None,
    validate: bool = True,
    overwrite: bool = False,
    n_procs: int = 1,
    on_written: Callable[[str], None] | None = None,
    max_memory: int | None = None,
    threads: int | None = None,
    report: bool | None = None,
    sessions: Sequence[str] | None = None,
) -> GenerateResult:
    """Generate a BIDS dataset at ``output`` (a folder, or a ``.zip``/``.tar.gz`` archive) for
    ``participant_labels`` (default: the parameter file's ``subject_label``, else ``01``:
    :func:`participant_labels_for`).

    Everything that can be checked is checked before the output is touched: the parameters
    (``ParamError``), the output location and what it may replace (``OutputError``: a folder
    must be empty, or with ``overwrite`` an asldro dataset holding only files asldro wrote), the
    ground truth (``GroundTruthError``), the estimated peak memory (``MemoryLimitError``, a
    ``ParamError``: over ``max_memory`` bytes, default the memory available) and the length of
    every file name (``NameTooLongError``). ``threads`` is the CPUs the run may use
    (``asldro.resources.thread_budget``: default ``ASLDRO_THREADS``, else the CPUs available
    to the process; ``UsageError`` when that variable is not an integer >= 1), shared by the
    ``n_procs`` participant processes; the data do not depend on it.
    The dataset is then built in a hidden folder and put in place only once complete (and
    validated, unless ``validate`` is false): a failure or a signal leaves the output as it was.

    ``report`` (docs/report.md): the HTML report in ``derivatives/asldro-report`` (validated
    with the dataset); None (the default) writes it when matplotlib is installed, else warns
    once (``ReportWarning``) and writes none; True requires it (``ReportUnavailableError``,
    exit 69, before anything is written); False writes none.

    ``sessions`` (docs/bids.md §1.1): the test–retest sessions of every participant
    (:func:`sessions_for`: None, the default, takes the parameter file's; empty: none).
    """
    params = as_params(params)
    labels = participant_labels_for(params, participant_labels)
    sessions = sessions_for(params, sessions)
    check_process_count(n_procs)
    threads = thread_budget(threads)
    report = _reports_wanted(report, in_process=worker_processes(n_procs, len(labels)) == 1)
    plan = plan_output(output, overwrite=overwrite)
    ground_truth = preflight(
        params,
        plan.build_parent,
        labels,
        n_procs,
        max_memory,
        threads,
        seed=seed,
        sessions=sessions,
    )
    with building(plan) as area, _errors_named_at(plan.target, area):
        composed = generate_participants(
            params,
            area.dataset,
            labels,
            seed=seed,
            n_procs=n_procs,
            ground_truth=ground_truth,
            on_written=on_written,
            threads=threads,
            sessions=sessions,
            pages=ReportPages(validated=validate) if report else None,
        )
        return GenerateResult(
            output=Path(output),
            participants=labels,
            validation=_finish_dataset(
                plan, area, validate, (labels if report else (), composed), threads
            ),
        )


def _reports_wanted(report: bool | None, in_process: bool) -> bool:
    """:func:`asldro.report.reports_wanted`; when the report is wanted and the participants
    are simulated ``in_process``, matplotlib starts being imported in the background."""
    from asldro.report import import_plotting_in_background, reports_wanted

    wanted = reports_wanted(report)
    if wanted and in_process:
        import_plotting_in_background()
    return wanted


def _finish_dataset(
    plan: Any,
    area: Any,
    validate: bool,
    report: tuple[Sequence[str], Mapping[str, str]],
    threads: int,
) -> Any:
    """``participants.tsv`` of the dataset built in ``area`` (every participant's columns from
    its provenance) and its cohort summary (``asldro.bids.summary``), the report pages of
    ``report``'s labels (those its mapping holds were composed by the workers) and the dataset
    page (none without labels), then the validation of it all
    (the report goes in ``code/`` without timings, deno's scratch in the build folder) unless
    ``validate`` is false, and the validation summary into the pages; then the dataset is put
    in place (``commit``). Returns the validation report (None when not validated)."""
    from asldro.bids.dataset import ALL_PARTICIPANTS, update_participants
    from asldro.bids.summary import write_cohort_summary

    update_participants(area.dataset, touched=ALL_PARTICIPANTS)
    write_cohort_summary(area.dataset)
    pages = None
    report_labels, composed = report
    if report_labels:
        from asldro.report import write_reports

        pages = write_reports(
            area.dataset,
            report_labels,
            dataset_page=True,
            validated=validate,
            threads=threads,
            composed=composed,
        )
    result = None
    if validate:
        from asldro.bids.validate import validate_dataset

        result = validate_dataset(area.dataset, write_report=True, scratch_dir=area.temp)
        if pages:
            from asldro.report import refresh_validation

            refresh_validation(area.dataset, pages)
    commit(plan, area)
    return result


@contextlib.contextmanager
def _errors_named_at(target: Path, area: Any) -> Iterator[None]:
    """An ``OSError`` raised inside names where the file was going (inside ``target``), not the
    hidden build folder of ``area``."""
    try:
        yield
    except OSError as err:
        shown = _shown_at_target(err, area, target)
        if shown is err:
            raise
        raise shown from err


def _shown_at_target(err: OSError, area: Any, target: Path) -> OSError:
    """``err`` naming where the file was going (inside ``target``), not the hidden build."""
    from asldro.bids.atomic import named

    if isinstance(err, OutputError) or not err.filename:
        return err
    path = Path(os.fsdecode(err.filename))
    for root in (area.dataset, area.temp):
        if path == root or root in path.parents:
            return named(err, target / path.relative_to(root) if root == area.dataset else target)
    return err
