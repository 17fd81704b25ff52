"""The README's Performance tables are the rendering of the results file they report (issue 16:
"the README's table is regenerated from its JSON"), not hand-edited figures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _render(results: dict) -> str:
    spec = importlib.util.spec_from_file_location("bench_table", ROOT / "bench" / "table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render(results)


def test_readme_holds_the_tables_of_the_published_results():
    """``bench/table.py bench/published.json`` is what the README's Performance section shows,
    and that results file has every section and the targets."""
    results = json.loads((ROOT / "bench" / "published.json").read_text(encoding="utf-8"))
    for section in ("comparison", "startup", "scaling", "multi_pld", "cohort", "floors"):
        assert results.get(section), f"bench/published.json has no {section!r} section"
    assert results["targets"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _render(results).strip() in readme
