"""What a benchmark returns and how it is registered: the statistics (percentiles without
numpy), `Row` (one line of the report, both sides or prov only) and the registry that
`@benchmark` fills in import order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------


def percentile(samples: list[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy.

    The venv is not guaranteed to have numpy, and the harness must run with
    nothing beyond what ipykernel and jupyter_client pull in.
    """
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(samples: list[float]) -> float:
    """Median via :func:`percentile`, so every figure uses one definition."""
    return percentile(samples, 50.0)


@dataclass
class Row:
    """One line of the results: a metric measured on both sides, or on prov alone.

    ``direct`` is ``None`` for what plain ipykernel has no counterpart of
    (the store's size, provctl's speed); such rows have no ratio and go in
    the report's second table.  ``target`` is the highest acceptable
    prov/direct ratio, or ``None`` when the metric is reported for
    information only.
    """

    benchmark: str
    metric: str
    unit: str
    direct: float | None
    prov: float
    samples: int
    target: float | None = None
    note: str = ""
    # Figures of further kernels measured in the same run on the same work
    # (e.g. {"ipyflow": 812.0}), in ``unit``; rendered in their own table.
    others: dict[str, float] = field(default_factory=dict)
    # Names in ``others`` whose figure is only a lower bound (a run stopped at its limit).
    others_at_least: set[str] = field(default_factory=set)

    @property
    def prov_only(self) -> bool:
        """True for a figure of prov alone (no direct side to compare with)."""
        return self.direct is None

    @property
    def ratio(self) -> float | None:
        """prov / direct; ``inf`` if the direct figure is zero, ``None`` for prov-only rows."""
        if self.direct is None:
            return None
        return self.prov / self.direct if self.direct else math.inf

    @property
    def passed(self) -> bool | None:
        """Whether the row meets its target; ``None`` when there is none.

        For a prov/direct row the target is the highest acceptable ratio; for
        a prov-only row it is the highest acceptable figure, in ``unit``.
        """
        if self.target is None:
            return None
        if self.direct is None:
            return self.prov <= self.target
        ratio = self.ratio
        return None if ratio is None else ratio <= self.target

    def to_json(self) -> dict[str, Any]:
        """Plain dict for bench/out/latest.json, ratio and verdict included."""
        return {
            "benchmark": self.benchmark,
            "metric": self.metric,
            "unit": self.unit,
            "direct": self.direct,
            "prov": self.prov,
            "ratio": self.ratio,
            "target": self.target,
            "passed": self.passed,
            "samples": self.samples,
            "note": self.note,
            # NaN (not measured) as null: JSON has no NaN.
            "others": {k: (None if math.isnan(v) else v) for k, v in self.others.items()},
            "others_at_least": sorted(self.others_at_least),
        }


def percentile_rows(
    benchmark: str,
    samples: dict[str, list[float]],
    targets: dict[int, float | None],
    note: str = "",
) -> list[Row]:
    """Rows for the requested percentiles of per-side samples, in ms.

    ``samples`` maps side label to durations in seconds; ``targets`` maps a
    percentile (50, 95) to its ratio target.
    """
    rows = []
    for pct, target in targets.items():
        rows.append(
            Row(
                benchmark=benchmark,
                metric=f"p{pct}",
                unit="ms",
                direct=percentile(samples["direct"], pct) * 1e3,
                prov=percentile(samples["prov"], pct) * 1e3,
                samples=min(len(v) for v in samples.values()),
                target=target,
                note=note,
            )
        )
    return rows


def prov_row(
    benchmark: str,
    metric: str,
    unit: str,
    value: float,
    samples: int,
    note: str = "",
    target: float | None = None,
) -> Row:
    """A figure of prov alone (store size, provctl time): no direct side, no ratio.

    ``target``, if given, is the highest acceptable value in ``unit``.
    """
    return Row(
        benchmark=benchmark,
        metric=metric,
        unit=unit,
        direct=None,
        prov=value,
        samples=samples,
        note=note,
        target=target,
    )


def median_row(
    benchmark: str,
    samples: dict[str, list[float]],
    target: float | None = None,
    note: str = "",
) -> Row:
    """One row with the median of per-side samples (seconds), in ms."""
    return Row(
        benchmark=benchmark,
        metric="median",
        unit="ms",
        direct=median(samples["direct"]) * 1e3,
        prov=median(samples["prov"]) * 1e3,
        samples=min(len(v) for v in samples.values()),
        target=target,
        note=note,
    )


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------


@dataclass
class Benchmark:
    """A registered benchmark: a function plus its full and quick settings.

    ``needs_pair`` benchmarks share two long-lived kernels (one per side,
    both alive at once); the others start their own kernels and run after
    the shared pair is shut down, so idle kernels do not disturb them.
    ``optional`` ones (minutes long) run only when asked for by name or flag.
    """

    name: str
    func: Callable[..., list[Row]]
    full: dict[str, Any]
    quick: dict[str, Any]
    needs_pair: bool
    description: str
    optional: bool = False


REGISTRY: dict[str, Benchmark] = {}


def benchmark(
    name: str,
    *,
    full: dict[str, Any],
    quick: dict[str, Any],
    needs_pair: bool = True,
    optional: bool = False,
) -> Callable[[Callable[..., list[Row]]], Callable[..., list[Row]]]:
    """Register ``func(ctx, **settings) -> list[Row]`` under ``name``.

    Registration order is run order.  ``full`` and ``quick`` are the keyword
    settings for a normal run and for ``--quick``.
    """

    def register(func: Callable[..., list[Row]]) -> Callable[..., list[Row]]:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        REGISTRY[name] = Benchmark(
            name=name,
            func=func,
            full=full,
            quick=quick,
            needs_pair=needs_pair,
            description=doc[0] if doc else "",
            optional=optional,
        )
        return func

    return register
