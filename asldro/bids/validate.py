"""Self-validation of a written dataset: own checks, pybids, bids-validator-deno (bids-asl.md §12).

:func:`validate_dataset` runs the layers in the order own -> pybids -> bids-validator-deno on the
raw dataset and on every derivative dataset under ``derivatives/`` (each one separately for
bids-validator-deno, §12.1), and writes the report to ``code/validation.json`` of each dataset.
A layer that cannot run is an error finding, never a silent skip.
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
#: Exit codes of bids-validator-deno (bids-asl.md §12.1).
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
        """Error-severity findings."""
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """Warning-severity findings."""
        return [f for f in self.findings if f.severity == WARNING]

    def summary_line(self) -> str:
        """``raw dataset: OK (0 errors, 3 warnings) [own, pybids, bids-validator-deno 3.0.2]``."""
        label = "raw dataset" if self.name == RAW else f"derivative dataset {self.name}"
        errors, warnings = len(self.errors), len(self.warnings)
        layers = ", ".join(self.layers)
        counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        if not errors:
            return f"{label}: OK ({counts}) [{layers}]"
        codes = list(dict.fromkeys(f.code for f in self.errors))
        shown = ", ".join(codes[:4]) + (", ..." if len(codes) > 4 else "")
        return f"{label}: {counts} ({shown}) [{layers}]"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "dataset": self.name,
            "ok": not self.errors,
            "layers": list(self.layers),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class ValidationReport:
    """Result of :func:`validate_dataset`: per-dataset findings and per-layer timings (s)."""

    dataset_dir: Path
    datasets: list[DatasetReport]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        """All findings of all datasets and layers."""
        return [f for report in self.datasets for f in report.findings]

    @property
    def ok(self) -> bool:
        """True when no layer reported an error-severity finding."""
        return not any(f.severity == ERROR for f in self.findings)

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
            "timings_s": {key: round(value, 3) for key, value in self.timings.items()},
            "summary": self.summary_lines(),
            "datasets": [report.to_dict() for report in self.datasets],
        }


# ---------------------------------------------------------------------------------------------
# pybids layer (bids-asl.md §12.4)


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
    (``get_associations(kind="InformedBy")``, pybids 0.22, bids-asl.md §12.4)."""
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
    of the raw dataset and of each derivative dataset (bids-asl.md §12.4)."""
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
# bids-validator-deno layer (bids-asl.md §12.1)


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
def _validator_work_dir(root: Path) -> Iterator[Path]:
    """The validator's hidden, owner-locked work folder (report, Deno cache) inside the dataset,
    or in the system temporary folder for a read-only dataset. Removed whatever happens; one
    left by a killed run is removed by the next (``asldro.bids.atomic.temp_dir``)."""
    from asldro.bids.atomic import temp_dir

    with contextlib.ExitStack() as stack:
        try:
            work_dir = stack.enter_context(temp_dir(root, TEMP_PREFIX))
        except OSError:  # a read-only dataset: validate it anyway
            work_dir = stack.enter_context(temp_dir(Path(tempfile.gettempdir()), TEMP_PREFIX))
        yield work_dir


def _run_in_own_group(
    command: list[str], *, env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess:
    """Run ``command`` in its own process group; when it times out or this process is
    interrupted (SIGTERM, SIGINT) the whole group (the validator and anything it started) is
    killed before the error propagates: no validator outlives the run."""
    with subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # not reaped yet: the group is its own
            process.wait()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _bv_finding(code: str, dataset: str, message: str, file: str = "") -> Finding:
    return Finding(code, ERROR, file, message, layer="bids-validator", dataset=dataset)


def parse_bids_validator_report(report: dict[str, Any], dataset: str) -> list[Finding]:
    """Error and warning issues of a ``--format json`` report; ``ignore`` issues are dropped."""
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
    return findings


def run_bids_validator(
    dataset_root: Path, dataset: str, *, executable: Path, work_dir: Path, cache_dir: Path
) -> list[Finding]:
    """Run ``bids-validator-deno -c bv-config.json --format json -o <file> <dataset>``.

    Exit 0 = no errors, 16 = errors, anything else = crash (bids-asl.md §12.1). The report file
    goes in ``work_dir``; Deno's cache in ``cache_dir``.
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
        done = _run_in_own_group(command, env=env, cwd=work_dir, timeout=BV_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [_bv_finding("BIDS_VALIDATOR_CRASHED", dataset, _first_line(exc))]
    tail = _first_line("\n".join((done.stderr or "").splitlines()[-3:]))
    if done.returncode not in (BV_EXIT_OK, BV_EXIT_ERRORS):
        return [_bv_finding("BIDS_VALIDATOR_CRASHED", dataset, f"exit {done.returncode}: {tail}")]
    try:
        report = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [_bv_finding("BIDS_VALIDATOR_CRASHED", dataset, f"unreadable report: {exc}")]
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
    root: Path, reports: dict[str, DatasetReport]
) -> Iterable[tuple[str, list[Finding]]]:
    try:
        executable = find_bids_validator()
    except ValidatorNotFoundError as exc:
        for name in reports:
            yield name, [_bv_finding("BIDS_VALIDATOR_NOT_FOUND", name, str(exc))]
        return
    beside_python = executable.parent == Path(sys.executable).parent
    version = bids_validator_version() if beside_python else ""
    label = f"bids-validator-deno {version}".strip()
    with _validator_work_dir(root) as work_dir:
        env_cache = os.environ.get("DENO_DIR")
        cache_dir = Path(env_cache).absolute() if env_cache else work_dir / "deno-cache"
        for name, report in reports.items():
            report.layers.append(label)
            yield name, run_bids_validator(
                report.root, name, executable=executable, work_dir=work_dir, cache_dir=cache_dir
            )


def _write_json_atomic(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(content, stream, indent=2)
        stream.write("\n")
    os.replace(temp, path)


def write_validation_reports(report: ValidationReport) -> None:
    """Full report to ``<raw>/code/validation.json``; each derivative's own part to
    ``<derivative>/code/validation.json`` (``code/`` is skipped by validators)."""
    _write_json_atomic(report.dataset_dir / REPORT_PATH, report.to_dict())
    for dataset in report.datasets:
        if dataset.name != RAW:
            content = dict(dataset.to_dict(), timings_s=report.to_dict()["timings_s"])
            _write_json_atomic(dataset.root / REPORT_PATH, content)


def validate_dataset(
    dataset_dir: Path,
    *,
    layers: Iterable[str] = LAYERS,
    write_report: bool = True,
) -> ValidationReport:
    """Validate a raw dataset and its derivatives (bids-asl.md §12).

    Parameters
    ----------
    dataset_dir : Path
        Root of the raw dataset; derivative datasets are the folders under ``derivatives/``.
    layers : iterable of str
        Subset of ``("own", "pybids", "bids-validator")``; always run in that order.
    write_report : bool
        Write ``code/validation.json`` into the raw and each derivative dataset.

    Returns
    -------
    ValidationReport
        ``.ok`` is False when any layer reported an error (a layer that could not run is one).

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
    timings: dict[str, float] = {}

    def add(findings: Iterable[Finding]) -> None:
        for finding in findings:
            reports[finding.dataset].findings.append(finding)

    if "own" in chosen:
        start = time.perf_counter()
        add(check_raw_dataset(root))
        for name, path in derivatives.items():
            add(check_derivative_dataset(path, name))
        for report in reports.values():
            report.layers.append("own")
        timings["own"] = time.perf_counter() - start
    if "pybids" in chosen:
        start = time.perf_counter()
        add(run_pybids(root, derivatives))
        for report in reports.values():
            report.layers.append("pybids")
        timings["pybids"] = time.perf_counter() - start
    if "bids-validator" in chosen:
        start = time.perf_counter()
        for _, findings in _run_bids_validator_layer(root, reports):
            add(findings)
        timings["bids-validator"] = time.perf_counter() - start
    result = ValidationReport(root, list(reports.values()), timings)
    if write_report:
        write_validation_reports(result)
    return result
