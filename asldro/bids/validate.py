"""Self-validation of a written dataset: own checks, pybids, bids-validator-deno (docs/bids.md §12).

:func:`validate_dataset` runs the layers in the order own -> pybids -> bids-validator-deno on the
raw dataset and on every derivative dataset under ``derivatives/`` (each one separately for
bids-validator-deno, §12.1). It writes nothing into the dataset unless asked
(``write_report=True``: ``code/validation.json`` of each dataset, without wall-clock timings so
that a rerun is byte-identical); the validator's temporary files go in ``scratch_dir``.

A layer that cannot run is an error finding, never a silent skip; the report tells it apart from
a dataset error (:attr:`ValidationReport.status`: valid, invalid, or could not run).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from asldro.bids.checks import (
    ERROR,
    WARNING,
    Finding,
    check_derivative_dataset,
    check_raw_dataset,
    data_files,
    find_asl_runs,
    image_stem,
    relative,
    split_name,
)

LAYERS = ("own", "pybids", "bids-validator")
RAW = "raw"
BV_CONFIG = Path(__file__).with_name("bv-config.json")
BV_EXECUTABLE = "bids-validator-deno"
#: Exit codes of bids-validator-deno (docs/bids.md §12.1).
BV_EXIT_OK, BV_EXIT_ERRORS = 0, 16
BV_TIMEOUT_SECONDS = 600
TEMP_PREFIX = ".asldro-tmp-deno-"
REPORT_PATH = Path("code") / "validation.json"
#: pybids entity names for BIDS file-name keys.
PYBIDS_ENTITIES = {
    "sub": "subject",
    "ses": "session",
    "acq": "acquisition",
    "rec": "reconstruction",
    "dir": "direction",
    "run": "run",
    "echo": "echo",
    "part": "part",
    "desc": "desc",
    "space": "space",
    "label": "label",
    "inv": "inv",
    "flip": "flip",
}
INDEXED_EXTENSIONS = (".nii.gz", ".nii", ".tsv", ".json")
#: Longer validator messages are cut to their first sentence.
MAX_MESSAGE = 160
#: Outcomes of a validation (:attr:`ValidationReport.status`).
VALID, INVALID, NOT_RUN = "valid", "invalid", "could not run"
#: Findings that say a layer could not run (not that the dataset is wrong).
COULD_NOT_RUN_CODES = frozenset(
    {"PYBIDS_UNAVAILABLE", "BIDS_VALIDATOR_NOT_FOUND", "BIDS_VALIDATOR_CRASHED"}
)


class ValidatorNotFoundError(RuntimeError):
    """bids-validator-deno is not installed next to Python nor on PATH."""


@dataclass
class DatasetReport:
    """Findings for one dataset (``name`` is ``"raw"`` or ``"derivatives/<name>"``)."""

    name: str
    root: Path
    layers: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """Error-severity findings about the dataset (not those of a layer that could not run)."""
        return [
            f for f in self.findings if f.severity == ERROR and f.code not in COULD_NOT_RUN_CODES
        ]

    @property
    def not_run(self) -> list[Finding]:
        """Findings of layers that could not run (validator missing or crashed)."""
        return [f for f in self.findings if f.code in COULD_NOT_RUN_CODES]

    @property
    def warnings(self) -> list[Finding]:
        """Warning-severity findings."""
        return [f for f in self.findings if f.severity == WARNING]

    def summary_line(self) -> str:
        """``raw dataset: OK (0 errors, 3 warnings) [own, pybids, bids-validator-deno 3.0.2]``;
        ``raw dataset: 2 errors, 0 warnings (CODE, ...) [...]``; or, when no error was found but
        a layer could not run, ``raw dataset: could not run (CODE) ...``."""
        label = "raw dataset" if self.name == RAW else f"derivative dataset {self.name}"
        errors, warnings = len(self.errors), len(self.warnings)
        layers = ", ".join(self.layers)
        counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        if not errors and not self.not_run:
            return f"{label}: OK ({counts}) [{layers}]"
        failing = self.errors or self.not_run
        codes = list(dict.fromkeys(f.code for f in failing))
        shown = ", ".join(codes[:4]) + (", ..." if len(codes) > 4 else "")
        if not errors:
            return f"{label}: could not run ({shown}); {counts} [{layers}]"
        return f"{label}: {counts} ({shown}) [{layers}]"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "dataset": self.name,
            "ok": not self.errors and not self.not_run,
            "layers": list(self.layers),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "could_not_run": len(self.not_run),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class ValidationReport:
    """Result of :func:`validate_dataset`: per-dataset findings and per-layer timings (s).

    The timings are for the caller (benchmarks); they are never written to a file.
    """

    dataset_dir: Path
    datasets: list[DatasetReport]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        """All findings of all datasets and layers."""
        return [f for report in self.datasets for f in report.findings]

    @property
    def ok(self) -> bool:
        """True when no layer reported an error-severity finding (and every layer ran)."""
        return not any(f.severity == ERROR for f in self.findings)

    @property
    def status(self) -> str:
        """:data:`INVALID` when a layer that ran found an error in the dataset (whether or not
        another layer could not run), else :data:`NOT_RUN` when a layer could not run, else
        :data:`VALID`. Front doors exit 16 for invalid and 1 for could not run."""
        if any(report.errors for report in self.datasets):
            return INVALID
        if any(report.not_run for report in self.datasets):
            return NOT_RUN
        return VALID

    def problem(self) -> str | None:
        """The one-line verdict for an error message (None when valid)."""
        status = self.status
        if status == INVALID:
            return "the dataset failed validation"
        if status == VALID:
            return None
        reasons = list(dict.fromkeys((f.code, f.message) for r in self.datasets for f in r.not_run))
        code, message = reasons[0]
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        return f"validation could not run: {code}: {message}{more}"

    def finding_lines(self) -> list[str]:
        """Every finding as one line (:meth:`Finding.line`): errors first, then warnings."""
        ordered = [f for f in self.findings if f.severity == ERROR]
        ordered += [f for f in self.findings if f.severity != ERROR]
        return [finding.line() for finding in ordered]

    def summary_lines(self) -> list[str]:
        """One line per dataset (raw first, then each derivative)."""
        return [report.summary_line() for report in self.datasets]

    def codes(self, layer: str | None = None) -> set[str]:
        """The finding codes, optionally of one layer only."""
        return {f.code for f in self.findings if layer is None or f.layer == layer}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "ok": self.ok,
            "status": self.status,
            "summary": self.summary_lines(),
            "datasets": [report.to_dict() for report in self.datasets],
        }


# ---------------------------------------------------------------------------------------------
# pybids layer (docs/bids.md §12.4)


def _pybids_finding(code: str, dataset: str, file: str, message: str) -> Finding:
    return Finding(code, ERROR, file, message, layer="pybids", dataset=dataset)


def _first_line(text: Any) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def _first_sentence(text: Any) -> str:
    line = _first_line(text)
    return line.split(". ")[0].rstrip(".") if len(line) > MAX_MESSAGE else line


def _same_value(indexed: Any, named: str) -> bool:
    if str(indexed) == named:
        return True
    return named.isdigit() and str(indexed).isdigit() and int(indexed) == int(named)


def check_layout_files(layout: Any, root: Path, name: str) -> list[Finding]:
    """Every NIfTI/TSV/JSON under ``sub-*`` is indexed with the entities of its name and, for
    images, non-empty metadata."""
    findings = []
    for path in data_files(root):
        if not path.name.endswith(INDEXED_EXTENSIONS):
            continue
        rel = relative(path, root)
        indexed = layout.get_file(str(path))
        if indexed is None:
            findings.append(
                _pybids_finding("PYBIDS_FILE_NOT_INDEXED", name, rel, "pybids silently drops it")
            )
            continue
        entities = indexed.get_entities()
        named, suffix, extension = split_name(path.name)
        expected = {PYBIDS_ENTITIES[k]: v for k, v in named.items() if k in PYBIDS_ENTITIES}
        expected.update(suffix=suffix, extension=extension)
        wrong = sorted(
            key
            for key, value in expected.items()
            if key not in entities or not _same_value(entities[key], value)
        )
        if wrong:
            findings.append(
                _pybids_finding(
                    "PYBIDS_ENTITY_MISMATCH",
                    name,
                    rel,
                    f"entities {wrong} not parsed from the name (pybids: {entities})",
                )
            )
        if image_stem(path) is not None and not layout.get_metadata(str(path)):
            findings.append(
                _pybids_finding("PYBIDS_METADATA_MISSING", name, rel, "no sidecar metadata")
            )
    return findings


def check_layout_m0scan(layout: Any, root: Path) -> list[Finding]:
    """The separate m0scan of each ASL run is reachable through IntendedFor
    (``get_associations(kind="InformedBy")``, pybids 0.22, docs/bids.md §12.4)."""
    findings = []
    for run in find_asl_runs(root):
        if run.m0scan is None:
            continue
        asl = layout.get_file(str(run.image))
        if asl is None:
            continue
        informed_by = {Path(a.path).resolve() for a in asl.get_associations(kind="InformedBy")}
        if run.m0scan.resolve() not in informed_by:
            findings.append(
                _pybids_finding(
                    "PYBIDS_M0SCAN_NOT_ASSOCIATED",
                    RAW,
                    relative(run.m0scan, root),
                    f"pybids does not associate it with {relative(run.image, root)} "
                    "(check IntendedFor)",
                )
            )
    return findings


def run_pybids(root: Path, derivatives: dict[str, Path]) -> list[Finding]:
    """pybids layer: ``BIDSLayout(root, validate=True, derivatives=True)`` indexes every data file
    of the raw dataset and of each derivative dataset (docs/bids.md §12.4)."""
    try:
        from bids import BIDSLayout
    except ImportError as exc:
        return [_pybids_finding("PYBIDS_UNAVAILABLE", RAW, "", f"cannot import pybids: {exc}")]
    findings: list[Finding] = []
    try:
        layout = BIDSLayout(str(root), validate=True, derivatives=bool(derivatives))
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # find out which dataset pybids refuses: the raw one alone, then each derivative
        try:
            layout = BIDSLayout(str(root), validate=True, derivatives=False)
        except Exception as raw_exc:  # pylint: disable=broad-exception-caught
            return [_pybids_finding("PYBIDS_LAYOUT_FAILED", RAW, "", _first_line(raw_exc))]
        for name, path in derivatives.items():
            try:
                layout.add_derivatives(str(path))
            except Exception as deriv_exc:  # pylint: disable=broad-exception-caught
                message = _first_line(deriv_exc) or _first_line(exc)
                findings.append(_pybids_finding("PYBIDS_LAYOUT_FAILED", name, "", message))
    findings += check_layout_files(layout, root, RAW)
    findings += check_layout_m0scan(layout, root)
    derivative_layouts = {Path(d.root).resolve(): d for d in layout.derivatives.values()}
    for name, path in derivatives.items():
        derivative = derivative_layouts.get(path.resolve())
        if derivative is None:
            if not any(f.dataset == name for f in findings):
                findings.append(
                    _pybids_finding("PYBIDS_DERIVATIVE_NOT_INDEXED", name, "", "not indexed")
                )
            continue
        findings += check_layout_files(derivative, path, name)
    return findings


# ---------------------------------------------------------------------------------------------
# bids-validator-deno layer (docs/bids.md §12.1)


def find_bids_validator() -> Path:
    """bids-validator-deno next to the running Python first, then on PATH."""
    beside = Path(sys.executable).parent / BV_EXECUTABLE
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(BV_EXECUTABLE)
    if found:
        return Path(found)
    raise ValidatorNotFoundError(
        f"{BV_EXECUTABLE} not found next to {sys.executable} or on PATH; "
        "install it with: pip install bids-validator-deno"
    )


def bids_validator_version() -> str:
    """The installed bids-validator-deno version ("" if unknown)."""
    try:
        return importlib.metadata.version("bids-validator-deno")
    except importlib.metadata.PackageNotFoundError:
        return ""


@contextlib.contextmanager
def _validator_work_dir(scratch_dir: Path | None) -> Iterator[Path]:
    """The validator's hidden, owner-locked work folder (report, Deno cache) in ``scratch_dir``
    (the output folder that ``generate`` and ``run.py`` own), or in the system temporary folder
    (``asldro validate``: nothing is written into the dataset). Removed whatever happens; one
    left by a killed run is removed by the next (``asldro.bids.atomic.temp_dir``)."""
    from asldro.bids.atomic import temp_dir

    with temp_dir(Path(scratch_dir or tempfile.gettempdir()), TEMP_PREFIX) as work_dir:
        yield work_dir


def _run_in_own_group(
    command: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    started: list[subprocess.Popen] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``command`` in its own process group; when it times out or this process is
    interrupted (SIGTERM, SIGINT) the whole group (the validator and anything it started) is
    killed before the error propagates: no validator outlives the run. The process is added
    to ``started`` (so that a run on another thread can kill it: :func:`kill_group`)."""
    with subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        if started is not None:
            started.append(process)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            kill_group(process)
            process.wait()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def kill_group(process: subprocess.Popen) -> None:
    """Kill the process group of ``process`` (started by :func:`_run_in_own_group`) unless it
    has been reaped (then the group may be another's)."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # not reaped yet: the group is its own


def _bv_finding(code: str, dataset: str, message: str, file: str = "") -> Finding:
    return Finding(code, ERROR, file, message, layer="bids-validator", dataset=dataset)


def parse_bids_validator_report(report: dict[str, Any], dataset: str) -> list[Finding]:
    """Error and warning issues of a ``--format json`` report; ``ignore`` issues are dropped.

    Sorted errors first, then by (file, code, message): the validator reads files concurrently,
    so the order of its issues is not reproducible."""
    issues = report.get("issues", {})
    messages = issues.get("codeMessages", {})
    findings = []
    for issue in issues.get("issues", []):
        severity = issue.get("severity")
        if severity not in (ERROR, WARNING):
            continue
        code = issue.get("code", "UNKNOWN")
        text = _first_sentence(issue.get("issueMessage") or messages.get(code, ""))
        if issue.get("subCode"):
            text = f"{issue['subCode']}: {text}" if text else str(issue["subCode"])
        findings.append(
            Finding(
                code,
                severity,
                str(issue.get("location", "")).lstrip("/"),
                text,
                layer="bids-validator",
                dataset=dataset,
            )
        )
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.file, f.code, f.message))


def _crash_reason(returncode: int, stderr: str) -> str:
    """``bids-validator-deno was killed by SIGTRAP: Fatal process out of memory: ...``: how it
    ended, and the first line of its stderr that is neither decoration nor a stack frame."""
    if returncode < 0:
        try:
            how = f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"was killed by signal {-returncode}"
    else:
        how = f"exited with status {returncode}"
    for raw in stderr.splitlines():
        line = raw.strip().lstrip("#").strip()
        if line and not line.startswith(("=", "/", "at ")) and "[0x" not in line:
            return f"{BV_EXECUTABLE} {how}: {_first_sentence(line)}"
    return f"{BV_EXECUTABLE} {how}"


def run_bids_validator(
    dataset_root: Path,
    dataset: str,
    *,
    executable: Path,
    work_dir: Path,
    cache_dir: Path,
    started: list[subprocess.Popen] | None = None,
) -> list[Finding]:
    """Run ``bids-validator-deno -c bv-config.json --format json -o <file> <dataset>``.

    Exit 0 = no errors, 16 = errors, anything else = crash (docs/bids.md §12.1): then the one
    finding is ``BIDS_VALIDATOR_CRASHED`` (the layer could not run). The report file goes in
    ``work_dir``; Deno's cache in ``cache_dir``.
    """
    out = Path(tempfile.mkstemp(prefix="report-", suffix=".json", dir=work_dir)[1])
    env = dict(os.environ, NO_COLOR="1", DENO_DIR=str(cache_dir), DENO_NO_UPDATE_CHECK="1")
    command = [
        str(executable),
        "-c",
        str(BV_CONFIG),
        "--format",
        "json",
        "-o",
        str(out),
        str(dataset_root),
    ]
    try:
        done = _run_in_own_group(
            command, env=env, cwd=work_dir, timeout=BV_TIMEOUT_SECONDS, started=started
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [_bv_finding("BIDS_VALIDATOR_CRASHED", dataset, f"{BV_EXECUTABLE}: {exc}")]
    if done.returncode not in (BV_EXIT_OK, BV_EXIT_ERRORS):
        reason = _crash_reason(done.returncode, done.stderr or "")
        return [_bv_finding("BIDS_VALIDATOR_CRASHED", dataset, reason)]
    try:
        report = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = f"{BV_EXECUTABLE} wrote no readable report: {exc}"
        return [_bv_finding("BIDS_VALIDATOR_CRASHED", dataset, reason)]
    findings = parse_bids_validator_report(report, dataset)
    if done.returncode == BV_EXIT_ERRORS and not any(f.severity == ERROR for f in findings):
        findings.append(
            _bv_finding("BIDS_VALIDATOR_FAILED", dataset, "exit 16 without a parsed error")
        )
    return findings


# ---------------------------------------------------------------------------------------------
# entry point


def derivative_datasets(root: Path) -> dict[str, Path]:
    """Derivative datasets: the visible folders directly under ``derivatives/``."""
    folder = root / "derivatives"
    if not folder.is_dir():
        return {}
    return {
        f"derivatives/{path.name}": path
        for path in sorted(folder.iterdir())
        if path.is_dir() and not path.name.startswith(".")
    }


def _run_bids_validator_layer(
    reports: dict[str, DatasetReport],
    scratch_dir: Path | None,
    started: list[subprocess.Popen] | None = None,
) -> tuple[str | None, list[tuple[str, list[Finding]]]]:
    """bids-validator-deno on every dataset of ``reports``: the layer's label (None when it
    could not start: not found, no temporary folder) and each dataset's findings. The
    reports are not changed (the caller records the layer: it may run on another thread);
    the validator processes are added to ``started``."""
    try:
        executable = find_bids_validator()
    except ValidatorNotFoundError as exc:
        return None, [
            (name, [_bv_finding("BIDS_VALIDATOR_NOT_FOUND", name, str(exc))]) for name in reports
        ]
    beside_python = executable.parent == Path(sys.executable).parent
    version = bids_validator_version() if beside_python else ""
    label = f"bids-validator-deno {version}".strip()
    with contextlib.ExitStack() as stack:
        try:
            work_dir = stack.enter_context(_validator_work_dir(scratch_dir))
        except OSError as exc:
            where = scratch_dir or tempfile.gettempdir()
            reason = f"cannot create a temporary folder in {where}: {exc.strerror or exc}"
            return None, [
                (name, [_bv_finding("BIDS_VALIDATOR_CRASHED", name, reason)]) for name in reports
            ]
        env_cache = os.environ.get("DENO_DIR")
        cache_dir = Path(env_cache).absolute() if env_cache else work_dir / "deno-cache"
        results = [
            (
                name,
                run_bids_validator(
                    report.root,
                    name,
                    executable=executable,
                    work_dir=work_dir,
                    cache_dir=cache_dir,
                    started=started,
                ),
            )
            for name, report in reports.items()
        ]
    return label, results


class _ValidatorInBackground:
    """The bids-validator layer on a thread of its own, started before the other layers: the
    validator is a process of its own, so it runs while this one runs the own and pybids
    layers (issue 16); :meth:`result` waits for it. Its findings are then recorded in layer
    order, so the report does not depend on which finished first."""

    def __init__(self, reports: dict[str, DatasetReport], scratch_dir: Path | None) -> None:
        import threading

        self._outcome: list[Any] = []
        self._seconds = 0.0
        self._started: list[subprocess.Popen] = []

        def run() -> None:
            start = time.perf_counter()
            try:
                outcome = _run_bids_validator_layer(reports, scratch_dir, self._started)
                self._outcome.append(outcome)
            except BaseException as error:  # pylint: disable=broad-except  # re-raised by result
                self._outcome.append(error)
            self._seconds = time.perf_counter() - start

        self._thread = threading.Thread(target=run, name="asldro-bids-validator", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Kill the validator (the run failed or was interrupted): no validator outlives it
        (one started meanwhile, for the next dataset, is killed in turn until the thread ends)."""
        while self._thread.is_alive():
            for process in list(self._started):
                kill_group(process)
            self._thread.join(timeout=0.05)

    def result(self) -> tuple[tuple[str | None, list[tuple[str, list[Finding]]]], float]:
        """The layer's (label, findings per dataset) and the seconds it ran."""
        self._thread.join()
        outcome = self._outcome[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome, self._seconds


def _write_json_atomic(path: Path, content: Any) -> None:
    from asldro.bids.atomic import write_bytes_atomic
    from asldro.jsonable import json_bytes

    write_bytes_atomic(path, json_bytes(content))


def write_validation_reports(report: ValidationReport) -> None:
    """Full report to ``<raw>/code/validation.json``; each derivative's own part to
    ``<derivative>/code/validation.json`` (``code/`` is skipped by validators), except where a
    file that is not an asldro report is in the way (a user's own derivative keeps its file:
    asldro replaces only what it wrote). No timings: the same dataset gives the same bytes."""
    _write_json_atomic(report.dataset_dir / REPORT_PATH, report.to_dict())
    for dataset in report.datasets:
        path = dataset.root / REPORT_PATH
        if dataset.name == RAW:
            continue
        if not (path.exists() or path.is_symlink()) or is_validation_report(path):
            _write_json_atomic(path, dataset.to_dict())


def is_validation_report(path: Path) -> bool:
    """True when ``path`` holds a report that asldro wrote (:meth:`ValidationReport.to_dict`),
    so that it may be replaced."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(content, dict) and {"ok", "summary", "datasets"} <= set(content)


def check_report_file(path: Path) -> None:
    """Check that a report may be written to ``path`` (call it before validating).

    Raises ``FileNotFoundError`` when its folder does not exist (it is not created) and
    ``FileExistsError`` when ``path`` exists and is not an asldro validation report (asldro
    replaces only files it wrote)."""
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent}: folder does not exist")
    if path.exists() and not is_validation_report(path):
        raise FileExistsError(
            f"{path}: exists and is not an asldro validation report; not replaced"
        )


def write_report_file(report: ValidationReport, path: Path) -> None:
    """Write the full report to ``path`` atomically, after :func:`check_report_file`."""
    check_report_file(path)
    _write_json_atomic(path, report.to_dict())


def _validator_findings(
    reports: dict[str, DatasetReport],
    outcome: tuple[str | None, list[tuple[str, list[Finding]]]],
) -> Iterator[Finding]:
    """The bids-validator layer's findings; each report records its label when it ran."""
    label, results = outcome
    for name, findings in results:
        if label is not None:
            reports[name].layers.append(label)
        yield from findings


def _layer_findings(
    layer: str,
    root: Path,
    derivatives: dict[str, Path],
    reports: dict[str, DatasetReport],
    scratch_dir: Path | None,
) -> Iterator[Finding]:
    """The findings of one validation ``layer`` over the raw dataset at ``root`` and its
    ``derivatives``; each of their ``reports`` records that the layer ran."""
    if layer == "bids-validator":
        yield from _validator_findings(reports, _run_bids_validator_layer(reports, scratch_dir))
        return
    if layer == "own":
        yield from check_raw_dataset(root)
        for name, path in derivatives.items():
            yield from check_derivative_dataset(path, name)
    else:
        yield from run_pybids(root, derivatives)
    for report in reports.values():
        report.layers.append(layer)


def validate_dataset(
    dataset_dir: Path,
    *,
    layers: Iterable[str] = LAYERS,
    write_report: bool = False,
    scratch_dir: Path | None = None,
) -> ValidationReport:
    """Validate a raw dataset and its derivatives (docs/bids.md §12).

    Parameters
    ----------
    dataset_dir : Path
        Root of the raw dataset; derivative datasets are the folders under ``derivatives/``.
    layers : iterable of str
        Subset of ``("own", "pybids", "bids-validator")``; always run in that order.
    write_report : bool
        Write ``code/validation.json`` into the raw and each derivative dataset (default: write
        nothing into the dataset).
    scratch_dir : Path, optional
        Folder for bids-validator-deno's temporary files (its report, and its cache when
        ``DENO_DIR`` is unset), removed afterwards; default: the system temporary folder.

    Returns
    -------
    ValidationReport
        ``.ok`` is False when any layer reported an error (a layer that could not run is one);
        ``.status`` tells an invalid dataset from a validation that could not run.

    Raises
    ------
    NotADirectoryError
        ``dataset_dir`` is not a folder.
    ValueError
        An unknown layer name.
    """
    root = Path(dataset_dir).resolve()
    if not root.is_dir():
        raise NotADirectoryError(f"{dataset_dir}: not a dataset folder")
    chosen = set(layers)
    unknown = chosen - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown validation layers {sorted(unknown)}; choose from {LAYERS}")
    derivatives = derivative_datasets(root)
    reports = {RAW: DatasetReport(RAW, root)}
    reports.update({name: DatasetReport(name, path) for name, path in derivatives.items()})
    timings = _run_layers(chosen, (root, derivatives), reports, scratch_dir)
    result = ValidationReport(root, list(reports.values()), timings)
    if write_report:
        write_validation_reports(result)
    return result


def _run_layers(
    chosen: set[str],
    root_derivatives: tuple[Path, dict[str, Path]],
    reports: dict[str, DatasetReport],
    scratch_dir: Path | None,
) -> dict[str, float]:
    """Run the ``chosen`` layers over the raw dataset and its derivatives
    (``root_derivatives``), recording their findings in ``reports`` in layer order; the
    bids-validator runs alongside the others when there are others. Returns the seconds of
    each layer."""
    root, derivatives = root_derivatives
    timings: dict[str, float] = {}
    background = None
    if "bids-validator" in chosen and len(chosen) > 1:
        background = _ValidatorInBackground(reports, scratch_dir)
    try:
        for layer in LAYERS:  # recorded in this order (the validator may run alongside)
            if layer not in chosen:
                continue
            start = time.perf_counter()
            if layer == "bids-validator" and background is not None:
                outcome, timings[layer] = background.result()
                found: Iterable[Finding] = _validator_findings(reports, outcome)
            else:
                found = _layer_findings(layer, root, derivatives, reports, scratch_dir)
            for finding in found:
                reports[finding.dataset].findings.append(finding)
            if layer != "bids-validator" or background is None:
                timings[layer] = time.perf_counter() - start
    except BaseException:
        if background is not None:
            background.cancel()
        raise
    return timings


def run_pybids_derivative(root: Path, name: str) -> list[Finding]:
    """pybids layer of a derivative dataset on its own: ``BIDSLayout(root, validate=True,
    is_derivative=True)`` indexes every data file (docs/bids.md §12.4)."""
    try:
        from bids import BIDSLayout
    except ImportError as exc:
        return [_pybids_finding("PYBIDS_UNAVAILABLE", name, "", f"cannot import pybids: {exc}")]
    try:
        layout = BIDSLayout(str(root), validate=True, is_derivative=True)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # pybids raises many
        return [_pybids_finding("PYBIDS_LAYOUT_FAILED", name, "", _first_line(exc))]
    return check_layout_files(layout, root, name)


def validate_derivative(
    derivative_dir: Path,
    *,
    name: str | None = None,
    layers: Iterable[str] = LAYERS,
    write_report: bool = False,
    scratch_dir: Path | None = None,
) -> ValidationReport:
    """Validate one derivative dataset on its own (e.g. the output of ``asldro quantify``): the
    own derivative checks, pybids and bids-validator-deno, in that order (docs/bids.md §12).
    ``name`` labels it in the report (default: ``derivatives/<folder name>``); with
    ``write_report`` the report goes to its ``code/validation.json``. Other arguments and the
    result as :func:`validate_dataset`."""
    root = Path(derivative_dir).resolve()
    if not root.is_dir():
        raise NotADirectoryError(f"{derivative_dir}: not a dataset folder")
    chosen = set(layers)
    unknown = chosen - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown validation layers {sorted(unknown)}; choose from {LAYERS}")
    report = DatasetReport(name or f"derivatives/{root.name}", root)
    timings: dict[str, float] = {}
    for layer in LAYERS:
        if layer in chosen:
            start = time.perf_counter()
            report.findings.extend(_derivative_layer(layer, report, scratch_dir))
            timings[layer] = time.perf_counter() - start
    result = ValidationReport(root, [report], timings)
    if write_report:
        _write_json_atomic(root / REPORT_PATH, result.to_dict())
    return result


def _derivative_layer(layer: str, report: DatasetReport, scratch_dir: Path | None) -> list[Finding]:
    """The findings of one validation ``layer`` over the derivative dataset of ``report``,
    which records that the layer ran."""
    if layer == "bids-validator":
        reports = {report.name: report}
        return list(_validator_findings(reports, _run_bids_validator_layer(reports, scratch_dir)))
    if layer == "own":
        found = check_derivative_dataset(report.root, report.name)
    else:
        found = run_pybids_derivative(report.root, report.name)
    report.layers.append(layer)
    return found
