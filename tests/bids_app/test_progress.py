"""Progress on stderr (issue 14 item 5; ``asldro.progress``): one line per participant when
stderr is not a terminal, a carriage-return bar on a terminal, nothing with ``--quiet``."""

from __future__ import annotations

import io
import os
import pty
import subprocess

from asldro.cli import main as asldro_main
from asldro.progress import Progress
from tests.bids_app.conftest import RUN_PY, ROOT, app_env, run_app


def test_one_line_per_participant_when_not_a_terminal():
    stream = io.StringIO()
    with Progress(3, stream=stream) as progress:
        for label in ("01", "02", "03"):
            progress.participant_done(label)
        progress.volumes(5, 10)  # a log gets no volume lines
    assert stream.getvalue() == "wrote sub-01 (1/3)\nwrote sub-02 (2/3)\nwrote sub-03 (3/3)\n"


def test_quiet_is_silent():
    stream = io.StringIO()
    with Progress(2, quiet=True, stream=stream) as progress:
        progress.participant_done("01")
        progress.volumes(1, 2)
    assert stream.getvalue() == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_redrawn_in_place_on_a_terminal():
    stream = _Terminal()
    with Progress(4, stream=stream) as progress:
        progress.participant_done("01")
        progress.volumes(3, 8)
        progress.participant_done("02")
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    frames = [frame.rstrip() for frame in text.strip("\n").split("\r")[1:]]
    assert frames[0].startswith("participants [" + "#" * 7 + ".")
    assert frames[0].endswith("1/4 sub-01")
    assert frames[1].endswith("1/4 volume 3/8")
    assert frames[2].endswith("2/4 sub-02")


def test_run_py_progress_goes_to_stderr_and_quiet_silences_it(tmp_path, tiny_params):
    common = ["participant", "--params", tiny_params, "--skip-bids-validation"]
    done = run_app(tmp_path / "out", *common, "--participant-label", "01", "02")
    assert done.returncode == 0, done.stderr
    assert "wrote sub-01 (1/2)" in done.stderr.splitlines()
    assert "wrote sub-02 (2/2)" in done.stderr.splitlines()
    assert "wrote sub-" not in done.stdout
    done = run_app(tmp_path / "out", *common, "--participant-label", "03", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "wrote sub-" not in done.stderr + done.stdout


def test_run_py_draws_a_bar_on_a_terminal(tmp_path, tiny_params):
    primary, secondary = pty.openpty()
    try:
        argv = [str(RUN_PY), str(tmp_path / "out"), "participant", "--params", str(tiny_params)]
        argv += ["--skip-bids-validation", "--participant-label", "01", "02"]
        done = subprocess.run(
            argv, env=app_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=secondary, check=False
        )
        os.close(secondary)
        secondary = -1
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal is closed and drained
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)
    assert done.returncode == 0
    text = seen.decode()
    assert "\rparticipants [" in text and "2/2 sub-02" in text
    assert "wrote sub-" not in text


def test_asldro_generate_reports_progress_and_quiet(tmp_path, tiny_params, capsys):
    common = ["--params", str(tiny_params), "--skip-validation", "--no-report"]
    assert (
        asldro_main(["generate", str(tmp_path / "a"), *common, "--participant-label", "01", "02"])
        == 0
    )
    captured = capsys.readouterr()
    assert captured.err.splitlines()[:2] == ["wrote sub-01 (1/2)", "wrote sub-02 (2/2)"]
    assert "wrote sub-" not in captured.out
    assert asldro_main(["generate", str(tmp_path / "b"), *common, "--quiet"]) == 0
    assert "wrote sub-" not in capsys.readouterr().err
