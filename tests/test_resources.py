"""The one resource budget (issue 10 item 5): the CPUs a run may use, chosen once at the front
door and passed down; ``ASLDRO_THREADS`` replaces the default."""

from __future__ import annotations

import os

import pytest

from asldro import resources
from asldro.cli import main
from asldro.exit_codes import UsageError


def test_available_cpus_is_the_affinity_mask_where_there_is_one():
    if hasattr(os, "sched_getaffinity"):
        assert resources.available_cpus() == len(os.sched_getaffinity(0))
    assert resources.available_cpus() >= 1


def test_available_cpus_without_an_affinity_mask_counts_the_cpus(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert resources.available_cpus() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one
    assert resources.available_cpus() == 1


def test_default_budget_is_the_available_cpus_or_asldro_threads(monkeypatch):
    monkeypatch.delenv(resources.THREADS_VARIABLE, raising=False)
    assert resources.thread_budget(None) == resources.available_cpus()
    monkeypatch.setenv(resources.THREADS_VARIABLE, "3")
    assert resources.thread_budget(None) == 3
    assert resources.thread_budget(5) == 5  # given explicitly: the variable is not read


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", " "])
def test_a_bad_asldro_threads_is_a_usage_error_naming_it(value, monkeypatch):
    monkeypatch.setenv(resources.THREADS_VARIABLE, value)
    with pytest.raises(
        UsageError, match=f"ASLDRO_THREADS: expected an integer >= 1, got {value!r}"
    ):
        resources.thread_budget(None)


def test_a_bad_thread_count_of_the_api_is_a_value_error():
    with pytest.raises(ValueError, match="threads: expected an integer >= 1, got 0"):
        resources.thread_budget(0)


@pytest.mark.parametrize(
    "threads, processes, each", [(8, 1, 8), (8, 3, 2), (2, 4, 1), (1, 1, 1), (5, 2, 2)]
)
def test_the_budget_is_shared_by_the_worker_processes(threads, processes, each):
    assert resources.threads_per_process(threads, processes) == each


@pytest.mark.parametrize(
    "n_procs, participants, workers", [(1, 5, 1), (4, 1, 1), (4, 2, 2), (3, 9, 3), (2, 0, 1)]
)
def test_worker_processes_never_exceed_the_participants(n_procs, participants, workers):
    assert resources.worker_processes(n_procs, participants) == workers


def test_asldro_generate_refuses_a_bad_asldro_threads_before_writing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(resources.THREADS_VARIABLE, "many")
    status = main(["generate", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 64
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "ASLDRO_THREADS: expected an integer >= 1, got 'many'" in err
    assert not (tmp_path / "out").exists()


def test_run_py_refuses_a_bad_asldro_threads_before_writing(tmp_path, capsys, monkeypatch):
    from bids_app.cli import main as run_main

    monkeypatch.setenv(resources.THREADS_VARIABLE, "0")
    status = run_main([str(tmp_path / "out"), "participant"])
    err = capsys.readouterr().err
    assert status == 64
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "ASLDRO_THREADS: expected an integer >= 1, got '0'" in err
    assert not (tmp_path / "out").exists()


def test_the_budget_reaches_the_memory_estimate(monkeypatch):
    """Volume threads hold working sets: the estimate grows with the participant's budget, and
    participants in parallel share the budget."""
    from asldro.groundtruth import builtin_ground_truth
    from asldro.params import default_params, load_params
    from asldro.pipelines.memory import check_memory, estimate_peak_memory

    doc = default_params()
    doc["image_series"] = [
        {
            "series_type": "asl",
            "series_parameters": {"acq_matrix": [64, 64, 24], "asl_context": "control label"},
        }
    ]
    params, gt = load_params(doc), builtin_ground_truth("hrgt_icbm_2009a_nls_3t")

    def simulation(estimate) -> int:  # the series' own part (the report's read may be larger)
        (found,) = [size for name, size in estimate.parts if name.startswith("image_series[0]")]
        return found

    one, two = (estimate_peak_memory(params, gt, threads=t) for t in (1, 2))
    assert simulation(one) < simulation(two)
    shared = check_memory(
        params, participants=2, parallel=2, threads=2, ground_truth=gt, max_memory=1 << 40
    )
    assert shared == one  # 2 processes of one thread each
    monkeypatch.setenv(resources.THREADS_VARIABLE, "2")
    assert estimate_peak_memory(params, gt) == two


def _gzip_threads_of_a_participant(out, monkeypatch, **budget) -> set:
    """The ``threads`` every image of a participant was compressed with."""
    import asldro.bids.writer as writer
    from asldro.api import generate_participant
    from asldro.params import load_params
    from tests.bids_app.conftest import small_document

    given = []
    compress = writer.nifti_gz_bytes

    def recording(*args, **kwargs):
        given.append(kwargs.get("threads"))
        return compress(*args, **kwargs)

    monkeypatch.setattr(writer, "nifti_gz_bytes", recording)
    generate_participant(load_params(small_document()), out, "01", **budget)
    assert len(given) > 3  # asl, T1w and the ground-truth maps
    return set(given)


@pytest.mark.parametrize("threads", [1, 3])
def test_the_participant_budget_reaches_the_gzip_of_its_images(threads, tmp_path, monkeypatch):
    """Every image of a participant is compressed on the participant's share of the budget (a
    worker process's ``threads_per_process``), not on every CPU of the machine."""
    assert _gzip_threads_of_a_participant(tmp_path, monkeypatch, threads=threads) == {threads}


def test_the_default_participant_budget_reaches_the_gzip(tmp_path, monkeypatch):
    """Without ``threads`` a participant's gzip uses the default budget (``ASLDRO_THREADS``)."""
    monkeypatch.setenv(resources.THREADS_VARIABLE, "2")
    assert _gzip_threads_of_a_participant(tmp_path, monkeypatch) == {2}
