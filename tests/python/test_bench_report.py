"""The benchmark report's section on targets not met: present only while a row fails, with the
figure reached and the hand-written reason of bench/open_targets.md (or a line saying none is
written), so a fixed target's explanation cannot linger in BENCHMARKS.md."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from harness import Row  # noqa: E402
from report import open_target_reasons, open_targets_section  # noqa: E402


def rows(pass_p50: float) -> list[Row]:
    return [
        Row("execute `pass`", "p50", "ms", direct=1.0, prov=pass_p50, samples=5, target=1.05),
        Row("store, big cell", "added per re-run", "bytes", direct=None, prov=80_000.0,
            samples=3, target=50_000),
        Row("stream", "median", "ms", direct=1.0, prov=1.0, samples=5, target=1.05),
    ]


def test_only_failing_benchmarks_get_a_reason(tmp_path):
    reasons = tmp_path / "open_targets.md"
    reasons.write_text("# Open targets\n\n## execute `pass`\n\nThe writer's commit.\n\n## stream\n\nunused\n")
    assert open_target_reasons(reasons)["execute `pass`"] == "The writer's commit."

    text = "\n".join(open_targets_section(rows(1.2), reasons))
    assert "### execute `pass`" in text and "p50 1.200 (target ≤ 1.05)" in text
    assert "The writer's commit." in text
    assert "### store, big cell" in text and "80,000 bytes (target ≤ 50,000 bytes)" in text
    assert "No explanation written yet" in text
    assert "stream" not in text

    assert "execute" not in "\n".join(open_targets_section(rows(1.01), reasons))


def test_no_failing_row_no_section(tmp_path):
    ok = [row for row in rows(1.0) if row.prov_only is False]
    assert open_targets_section(ok, tmp_path / "missing.md") == []
