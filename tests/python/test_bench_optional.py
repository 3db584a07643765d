"""Optional benchmarks (the team store on PostgreSQL, minutes long) stay out of the default run
and come in with `--team` or by name, so `bash scripts/bench.sh` keeps its length."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench  # noqa: E402
from harness import REGISTRY  # noqa: E402


def test_the_team_benchmark_runs_only_when_asked_for():
    assert REGISTRY["team"].optional
    default = bench.select_benchmarks(None)
    assert "team" not in default and "provctl_million" in default
    assert all(not REGISTRY[name].optional for name in default)
    with_team = bench.select_benchmarks(None, optional=True)
    assert with_team == list(REGISTRY) and "team" in with_team
    assert bench.select_benchmarks(["team"]) == ["team"]
    assert bench.parse_args(["--team"]).team and not bench.parse_args([]).team
