"""The report in a real browser (issue 15 "Must show"): headless Chromium (Debian's ``chromium``,
which .ci/run installs) renders a participant page and the dataset page; the page loads, every
``<img>`` is decoded and not blank (pixel variance above a threshold in its region of the
screenshot), and no request leaves the machine (the page references no http(s) URL, and the
browser's network log has no request made for the page; name resolution is disabled, so nothing
could leave anyway). Under CI (``CI=true``) a missing browser is a failure, not a skip."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

WIDTH = 1280
#: A region whose greyscale pixel variance is at most this is blank.
MIN_VARIANCE = 10.0
BROWSER_TIMEOUT = 120
PROBE_ID = "asldro-probe"
#: Collects, once the page has loaded, every image's state and place, the page's height and
#: the resources the page fetched (Resource Timing lists any request but data: URIs).
PROBE = f"""<script>
window.addEventListener("load", () => {{
  const images = Array.from(document.images).map(img => {{
    const r = img.getBoundingClientRect();
    return {{alt: img.alt, complete: img.complete, natural: img.naturalWidth,
             x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height}};
  }});
  const resources = performance.getEntriesByType("resource").map(e => e.name);
  const out = document.createElement("pre");
  out.id = "{PROBE_ID}";
  out.textContent = JSON.stringify({{images, resources, title: document.title,
    height: document.documentElement.scrollHeight}});
  document.body.appendChild(out);
}});
</script>"""


def chromium() -> str:
    """The browser: fails under CI when missing (.ci/run installs it), else skips."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def browser_command(profile: Path, net_log: Path, *arguments: str) -> list[str]:
    """Headless Chromium with a private profile, no background networking, every host name
    unresolvable, and a network log."""
    return [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--log-net-log={net_log}",
        *arguments,
    ]


def run_browser(tmp_path: Path, name: str, *arguments: str) -> tuple[str, Path]:
    """Run the browser; return its standard output and its network log."""
    net_log = tmp_path / f"{name}-net.json"
    env = dict(os.environ, HOME=str(tmp_path))
    done = subprocess.run(
        browser_command(tmp_path / f"{name}-profile", net_log, *arguments),
        capture_output=True,
        text=True,
        check=False,
        timeout=BROWSER_TIMEOUT,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, net_log


def page_requests(net_log: Path) -> list[str]:
    """The URLs the browser requested on behalf of a page opened from a file (their network
    isolation key is file://), other than file: and data: URLs."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    kinds = {value: key for key, value in log["constants"]["logEventTypes"].items()}
    requests = []
    for event in log["events"]:
        params = event.get("params") or {}
        if kinds.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params:
            if str(params.get("network_isolation_key", "")).startswith("file://"):
                if not params["url"].startswith(("file:", "data:")):
                    requests.append(params["url"])
    return requests


def probe(tmp_path: Path, page: Path) -> dict:
    """The probe's findings for ``page`` (a copy with the probe script, next to the page)."""
    copy = page.with_name(f".probe-{page.name}")
    copy.write_text(
        page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    try:
        out, net_log = run_browser(
            tmp_path,
            f"probe-{page.stem}",
            f"--window-size={WIDTH},1000",
            "--virtual-time-budget=10000",
            "--dump-dom",
            copy.as_uri(),
        )
    finally:
        copy.unlink()
    assert page_requests(net_log) == []
    found = re.search(rf'<pre id="{PROBE_ID}">(.*?)</pre>', out, re.S)
    assert found, "the page did not load (no probe output)"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def screenshot(tmp_path: Path, page: Path, height: int) -> np.ndarray:
    """The whole page as greyscale pixels (rows, columns), and no request made for it."""
    from PIL import Image  # a dependency of matplotlib (the plots extra)

    shot = tmp_path / f"{page.stem}.png"
    _, net_log = run_browser(
        tmp_path,
        page.stem,
        f"--window-size={WIDTH},{height}",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert page_requests(net_log) == []
    with Image.open(shot) as picture:
        return np.asarray(picture.convert("L"), dtype=np.float64)


def check_page(tmp_path: Path, page: Path, minimum_images: int) -> dict:
    """Load ``page``: every image decoded and non-blank in the screenshot, nothing fetched."""
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", text, re.I)
    assert not re.search(r"url\(|@import|<script|<link", text, re.I)
    found = probe(tmp_path, page)
    assert found["title"].startswith("asldro"), found["title"]
    assert found["resources"] == []
    images = found["images"]
    assert len(images) >= minimum_images
    undecoded = [i["alt"] for i in images if not (i["complete"] and i["natural"] > 0)]
    assert undecoded == []
    pixels = screenshot(tmp_path, page, int(found["height"]))
    blank = []
    for item in images:
        top, left = int(round(item["y"])), int(round(item["x"]))
        region = pixels[top : top + int(item["h"]), left : left + int(item["w"])]
        assert region.size > 0, f"{item['alt']}: outside the screenshot"
        if region.var() <= MIN_VARIANCE:
            blank.append(item["alt"])
    assert blank == []
    return found


def test_participant_page_renders_in_chromium(multi_pld_dataset, tmp_path):
    page = multi_pld_dataset / "derivatives" / "asldro-report" / "sub-01" / "sub-01.html"
    found = check_page(tmp_path, page, minimum_images=30)
    alts = [image["alt"] for image in found["images"]]
    for expected in (
        "truth: CBF, axial",
        "truth: ATT, sagittal",
        "truth: M0, coronal",
        "truth: T1, axial",
        "mean control, axial",
        "mean ΔM, axial",
        "kinetic curve",
        "motion traces",
    ):
        assert expected in alts, expected
    assert sum(alt.startswith("ΔM, PLD") for alt in alts) == 6  # two PLDs, three views each


def test_dataset_page_renders_in_chromium(multi_pld_dataset, tmp_path):
    root = tmp_path / "dataset"
    shutil.copytree(multi_pld_dataset, root)
    table = root / "participants.tsv"
    table.write_text("participant_id\tgroup\tage\nsub-01\tpatients\t42\n", encoding="utf-8")
    from bids_app.cli import main as run_py

    assert run_py([str(root), "group"]) == 0
    page = root / "derivatives" / "asldro-report" / "index.html"
    found = check_page(tmp_path, page, minimum_images=1)
    assert "histogram of age" in [image["alt"] for image in found["images"]]
