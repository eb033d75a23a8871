"""Turn measurements into the Markdown report, the target check and the ratio chart.

Ratios are always "their cost / our cost" (ours = 1; above 1 means ours is better), with
throughput turned into time per message first, so one chart axis fits every metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.coldstart import ColdResult, ColdStats, summary
from benchmarks.warm import Batch, Latency

# The summary compares these on one interpreter (this venv's); the Lambda packages run on
# the Lambda runtime's Python and have their own table.
CONTENDERS = ("ours", "tutorial", "onnx")
NAMES = {
    "ours": "ours (.npz + NumPy runtime)",
    "tutorial": "tutorial (joblib + scikit-learn)",
    "onnx": "ONNX (skl2onnx + onnxruntime)",
}
FLOORS = {"primary": "floor-pass", "zip": "zip-floor-pass", "recipes": "zip-floor-pass"}


@dataclass(frozen=True)
class PackageRow:
    """One deployable package: bytes zipped and unpacked."""

    key: str
    label: str
    zipped: int
    unpacked: int


@dataclass
class Results:
    """Everything one run measured, plus what is needed to describe it."""

    machine: dict[str, str]
    settings: dict[str, str]
    cold: ColdResult | None = None
    latencies: dict[str, Latency] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)
    parity: dict[str, str] = field(default_factory=dict)  # label disagreements, described
    packages: dict[str, PackageRow] = field(default_factory=dict)
    recipes: list[Any] = field(default_factory=list)  # benchmarks.recipes.RecipeRow
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Metric:
    """One summary row: a cost per contender (lower is better) and how to print it."""

    name: str
    costs: dict[str, float]
    show: Callable[[float], str]
    shown: dict[str, str] = field(default_factory=dict)  # overrides, e.g. msgs/s

    def ratio(self, key: str) -> float | None:
        if key not in self.costs or "ours" not in self.costs or self.costs["ours"] <= 0:
            return None
        return self.costs[key] / self.costs["ours"]


def _median(stats: ColdStats | None, attr: str) -> float | None:
    return summary(getattr(stats, attr))["median"] if stats else None


# --- formatting ----------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_kib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    return f"{ratio:.0f}x" if ratio >= 100 else f"{ratio:.1f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def spread(values: Sequence[float], show: Callable[[float], str]) -> str:
    """ "median [min, max]" for cold-start cells."""
    s = summary(values)
    return f"{show(s['median'])} [{show(s['min'])}, {show(s['max'])}]"


# --- the summary ---------------------------------------------------------------------------


def _cold_metrics(cold: ColdResult) -> list[Metric]:
    stats = {k: v for k, v in cold.stats.items() if k in CONTENDERS}

    def med(attr: str) -> dict[str, float]:
        return {k: summary(getattr(s, attr))["median"] for k, s in stats.items()}

    return [
        Metric("cold start, wall", med("wall_s"), fmt_time),
        Metric("cold start, CPU", med("cpu_s"), fmt_time),
        Metric("cold start, peak RSS", med("rss_kib"), fmt_kib),
    ]


def _latency_metrics(latencies: dict[str, Latency]) -> list[Metric]:
    bare = {k: latencies[f"{k}-predict"] for k in CONTENDERS if f"{k}-predict" in latencies}
    metrics = [
        Metric("warm predict, p50", {k: v.percentile(50) for k, v in bare.items()}, fmt_time),
        Metric("warm predict, p99", {k: v.percentile(99) for k, v in bare.items()}, fmt_time),
    ]
    if "ours-handler" in latencies:
        costs = {k: v.percentile(50) for k, v in bare.items() if k != "ours"}
        costs["ours"] = latencies["ours-handler"].percentile(50)
        metrics.append(
            Metric("warm, ours through lambda_handler vs their predict, p50", costs, fmt_time)
        )
    return metrics


def _batch_metric(batches: dict[str, Batch]) -> list[Metric]:
    rows = {k: b for k, b in batches.items() if k in CONTENDERS}
    if not rows:
        return []
    n = next(iter(rows.values())).n_messages
    return [
        Metric(
            f"batch of {n:,} messages",
            {k: b.median_s for k, b in rows.items()},
            fmt_time,
            {k: f"{b.per_second:,.0f} msg/s" for k, b in rows.items()},
        )
    ]


def _package_metrics(packages: dict[str, PackageRow]) -> list[Metric]:
    rows = {k: p for k, p in packages.items() if k in CONTENDERS}
    if "ours" not in rows or len(rows) < 2:
        return []
    return [
        Metric("package, zipped", {k: p.zipped for k, p in rows.items()}, fmt_bytes),
        Metric("package, unpacked", {k: p.unpacked for k, p in rows.items()}, fmt_bytes),
    ]


def summary_metrics(results: Results) -> list[Metric]:
    metrics = _cold_metrics(results.cold) if results.cold else []
    metrics += _latency_metrics(results.latencies)
    metrics += _batch_metric(results.batches)
    metrics += _package_metrics(results.packages)
    return metrics


def present_contenders(metrics: Sequence[Metric]) -> list[str]:
    return [k for k in CONTENDERS if any(k in m.costs for m in metrics)]


def summary_table(results: Results) -> str:
    metrics = summary_metrics(results)
    keys = present_contenders(metrics)
    rows = []
    for m in metrics:
        cells = [m.name]
        for k in keys:
            if k not in m.costs:
                cells.append("n/a")
                continue
            value = m.shown.get(k) or m.show(m.costs[k])
            cells.append(f"{value} ({fmt_ratio(m.ratio(k))})")
        rows.append(cells)
    if results.parity:
        rows.append(
            ["label disagreements with scikit-learn, all messages"]
            + [str(results.parity[k]) if k in results.parity else "n/a" for k in keys]
        )
    return table(["metric (median)", *(NAMES[k] for k in keys)], rows)


# --- detail tables -------------------------------------------------------------------------


def cold_table(cold: ColdResult, groups: Sequence[str]) -> str:
    """Every process with its spread; ratios against ``-c pass`` on the same interpreter."""
    rows = []
    for s in cold.stats.values():
        if s.variant.group not in groups:
            continue
        wall = summary(s.wall_s)
        floor = cold.stats.get(FLOORS.get(s.variant.group, ""))
        base = summary(floor.wall_s)["median"] if floor else None
        rows.append(
            [
                s.variant.label,
                spread(s.wall_s, fmt_time),
                f"[{fmt_time(wall['q1'])}, {fmt_time(wall['q3'])}]",
                spread(s.cpu_s, fmt_time),
                spread(s.rss_kib, fmt_kib),
                fmt_ratio(wall["median"] / base if base else None),
            ]
        )
    header = ["process", "wall [min, max]", "wall IQR", "CPU [min, max]", "peak RSS [min, max]"]
    return table([*header, "wall vs `-c pass`"], rows)


def lambda_table(results: Results) -> str:
    """The Lambda packages side by side: cold start unpinned and on one CPU, memory, size."""
    cold = results.cold
    if cold is None:
        return ""
    floor, floor_pinned = cold.stats.get("zip-floor-pass"), cold.stats.get("zip-floor-pass@cpu0")
    rows = []
    for key, package, batch in (
        ("zip-floor-pass", None, None),
        ("zip-ours", "ours", "zip-ours"),
        ("numpy-free", "numpy-free", "numpy-free"),
    ):
        s, pinned = cold.stats.get(key), cold.stats.get(f"{key}@cpu0")
        if s is None:
            continue
        wall, pinned_wall = _median(s, "wall_s"), _median(pinned, "wall_s")
        cpu = _median(s, "cpu_s")
        row = results.packages.get(package or "")
        b = results.batches.get(batch or "")
        rows.append(
            [
                s.variant.label,
                _vs(wall, _median(floor, "wall_s")),
                _vs(pinned_wall, _median(floor_pinned, "wall_s")),
                _vs(cpu, _median(floor, "cpu_s")),
                fmt_kib(_median(s, "rss_kib") or 0),
                f"{b.per_second:,.0f} msg/s" if b else "n/a",
                f"{fmt_bytes(row.zipped)} / {fmt_bytes(row.unpacked)}" if row else "n/a",
            ]
        )
    header = [
        "Lambda package",
        "cold start (vs `-c pass`)",
        "pinned to 1 CPU (vs `-c pass`, pinned)",
        "CPU time (vs `-c pass`)",
        "peak RSS",
        "batch throughput",
        "zipped / unpacked",
    ]
    return table(header, rows)


def _vs(seconds: float | None, floor: float | None) -> str:
    """ "time (ratio to the floor)" or n/a."""
    if not seconds or not floor:
        return "n/a"
    return f"{fmt_time(seconds)} ({fmt_ratio(seconds / floor)})"


def recipes_table(rows: Sequence[Any], cold: ColdResult | None) -> str:
    """A row per built-in recipe; cold start from runtime/ + model under the Lambda Python."""
    if not rows:
        return ""
    floor = cold.stats.get("zip-floor-pass") if cold else None
    lines = []
    for r in rows:
        stats = cold.stats.get(f"recipe-{r.model.name}") if cold else None
        wall = _median(stats, "wall_s")
        base = _median(floor, "wall_s")
        lines.append(
            [
                r.model.name,
                r.model.family,
                fmt_bytes(r.footprint.model_bytes),
                f"{fmt_time(wall)} ({fmt_ratio(wall / base)})" if wall and base else "n/a",
                fmt_kib(_median(stats, "rss_kib") or 0) if stats else "n/a",
                fmt_time(r.classify.percentile(50)),
                fmt_time(r.handler.percentile(50)),
                f"{r.batch.per_second:,.0f}",
                f"{r.plain_batch.per_second:,.0f}",
            ]
        )
    header = [
        "recipe",
        "classifier family",
        "model file",
        "cold start (vs `-c pass`)",
        "peak RSS",
        "warm `classify([text])` p50",
        "warm handler p50",
        "batch, NumPy (msg/s)",
        "batch, plain Python (msg/s)",
    ]
    return table(header, lines)


def recipe_cold_walls(cold: ColdResult | None) -> dict[str, float]:
    if cold is None:
        return {}
    return {
        key.removeprefix("recipe-"): summary(s.wall_s)["median"]
        for key, s in cold.stats.items()
        if key.startswith("recipe-")
    }


def latency_table(latencies: dict[str, Latency]) -> str:
    rows = [
        [
            lat.label,
            f"{len(lat.samples):,}",
            fmt_time(lat.percentile(50)),
            fmt_time(lat.percentile(90)),
            fmt_time(lat.percentile(99)),
            fmt_time(float(lat.samples.mean())),
        ]
        for lat in latencies.values()
    ]
    return table(["call", "calls", "p50", "p90", "p99", "mean"], rows)


def batch_table(batches: dict[str, Batch]) -> str:
    ours = batches.get("ours")
    rows = []
    for b in batches.values():
        ratio = b.median_s / ours.median_s if ours else None
        rows.append(
            [
                b.label,
                f"{fmt_time(b.median_s)} [{fmt_time(min(b.seconds))}, {fmt_time(max(b.seconds))}]",
                f"{b.per_second:,.0f}",
                fmt_ratio(ratio),
                str(len(b.seconds)),
            ]
        )
    return table(["call", "time [min, max]", "messages/s", "time vs ours", "repeats"], rows)


def package_table(packages: dict[str, PackageRow]) -> str:
    ours = packages.get("ours")
    rows = [
        [
            p.label,
            fmt_bytes(p.zipped),
            fmt_ratio(p.zipped / ours.zipped if ours else None),
            fmt_bytes(p.unpacked),
            fmt_ratio(p.unpacked / ours.unpacked if ours else None),
        ]
        for p in packages.values()
    ]
    return table(["package", "zipped", "vs ours", "unpacked", "vs ours"], rows)


# --- the document --------------------------------------------------------------------------


def recipes_section(results: Results) -> str:
    body = recipes_table(results.recipes, results.cold)
    if not body:
        return ""
    from benchmarks.recipes import BASELINE, NOISE, slower_than_baseline

    slower = slower_than_baseline(results.recipes, recipe_cold_walls(results.cold))
    base = next((r for r in results.recipes if r.model.name == BASELINE), None)
    features = f" (features: {base.model.features})" if base else ""
    if slower:
        verdict = (
            f"Slower than {BASELINE} (GaussianNB){features} by more than "
            f"{NOISE - 1:.0%}, time ratios:\n\n" + "\n".join(f"- {line}" for line in slower)
        )
    else:
        verdict = f"No recipe is more than {NOISE - 1:.0%} slower than {BASELINE} (GaussianNB)."
    return body + "\n\n" + verdict


def render_markdown(results: Results, chart_name: str | None) -> str:
    parts = [
        "# Benchmarks: ours vs the scikit-learn path",
        "",
        "Generated by `benchmarks/run.py`; do not edit by hand. Medians; ratios are their "
        "cost ÷ ours (ours = 1, higher is better for us). Absolute times vary by machine; "
        "the ratios are what carry over.",
        "",
        summary_table(results),
    ]
    if chart_name:
        parts += ["", f"![ratios]({chart_name})"]
    sections = [
        ("Lambda packages: default and NumPy-free", lambda_table(results)),
        ("Cold start", cold_table(results.cold, ("primary", "zip")) if results.cold else ""),
        ("Warm latency, one message per call", latency_table(results.latencies)),
        ("Batch: every message in one call", batch_table(results.batches)),
        ("Package size, same Lambda target", package_table(results.packages)),
        ("Built-in recipes", recipes_section(results)),
    ]
    for title, body in sections:
        if body and "|---" in body and body.count("\n") > 1:
            parts += ["", f"## {title}", "", body]
    if results.notes:
        parts += ["", "## Notes", ""] + [f"- {note}" for note in results.notes]
    parts += ["", "## Run", ""] + [f"- {k}: {v}" for k, v in results.settings.items()]
    parts += ["", "## Machine", ""] + [f"- {k}: {v}" for k, v in results.machine.items()]
    return "\n".join(parts) + "\n"


def render_chart(results: Results, path: Path) -> bool:
    """Bar chart of the ratios on a log axis; False (no chart) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    metrics = [m for m in summary_metrics(results) if any(m.ratio(k) for k in CONTENDERS[1:])]
    others = [k for k in CONTENDERS[1:] if any(k in m.costs for m in metrics)]
    if not metrics or not others:
        return False
    height = 0.8 / len(others)
    fig, ax = plt.subplots(figsize=(10, 0.38 * len(metrics) * len(others) + 1.8))
    top = 1.0
    for j, key in enumerate(others):
        ys = [i + j * height for i in range(len(metrics))]
        ratios = [m.ratio(key) or 0.0 for m in metrics]
        top = max(top, *ratios)
        bars = ax.barh(ys, ratios, height=height, label=NAMES[key])
        ax.bar_label(bars, [fmt_ratio(r) if r else "" for r in ratios], padding=3, fontsize=8)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlim(0.5, top * 3)
    ax.set_yticks([i + height * (len(others) - 1) / 2 for i in range(len(metrics))])
    ax.set_yticklabels([m.name for m in metrics], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("their cost / ours (log scale; ours = 1; right of the line: ours is better)")
    ax.set_title("Ours vs the scikit-learn path (medians, one run on one machine)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=len(others), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return True
