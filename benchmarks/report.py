"""Turn measurements into the Markdown report, the target check and the ratio chart.

Ratios are always "their cost / our cost" (ours = 1; above 1 means ours is better), with
throughput turned into time per message first, so one chart axis fits every metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.coldstart import ColdResult, ColdStats, summary
from benchmarks.warm import Batch, Latency

CONTENDERS = ("ours", "tutorial", "onnx")
NAMES = {
    "ours": "ours (.npz + NumPy runtime)",
    "tutorial": "tutorial (joblib + scikit-learn)",
    "onnx": "ONNX (skl2onnx + onnxruntime)",
}


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


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    met: bool


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


def cold_table(cold: ColdResult) -> str:
    """Every process with its spread; ratios against the "ours" row of the same group."""
    ours_wall = {
        s.variant.group: summary(s.wall_s)["median"]
        for key, s in cold.stats.items()
        if key in ("ours", "zip-ours")
    }
    rows = []
    for s in cold.stats.values():
        wall = summary(s.wall_s)
        base = ours_wall.get(s.variant.group)
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
    return table([*header, "wall vs ours (same interpreter)"], rows)


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


# --- targets -------------------------------------------------------------------------------


def _median(stats: ColdStats | None, attr: str) -> float | None:
    return summary(getattr(stats, attr))["median"] if stats else None


def cold_targets(cold: ColdResult) -> list[Target]:
    ours = cold.stats.get("ours")
    tutorial = cold.stats.get("tutorial")
    targets = []
    ours_wall, tut_wall = _median(ours, "wall_s"), _median(tutorial, "wall_s")
    if ours_wall and tut_wall:
        r = tut_wall / ours_wall
        targets.append(Target("cold start ≥ 10x faster than the tutorial's", f"{r:.1f}x", r >= 10))
    for key in ("floor-numpy", "floor-numpy-1t"):
        floor = _median(cold.stats.get(key), "wall_s")
        if ours_wall and floor:
            r = ours_wall / floor
            name = f"cold start ≤ 1.15x `{cold.stats[key].variant.label}`"
            targets.append(Target(name, f"{r:.2f}x", r <= 1.15))
    ours_rss, tut_rss = _median(ours, "rss_kib"), _median(tutorial, "rss_kib")
    if ours_rss and tut_rss:
        r = ours_rss / tut_rss
        targets.append(
            Target("peak RSS ≤ ¼ of the tutorial's", f"{r:.2f} ({fmt_kib(ours_rss)})", r <= 0.25)
        )
    return targets


def warm_targets(latencies: dict[str, Latency], batches: dict[str, Batch]) -> list[Target]:
    targets = []
    if "ours-handler" in latencies and "tutorial-predict" in latencies:
        r = latencies["tutorial-predict"].percentile(50) / latencies["ours-handler"].percentile(50)
        name = "warm handler call ≥ 20x faster than the tutorial's bare predict (p50)"
        targets.append(Target(name, f"{r:.1f}x", r >= 20))
    ours = batches.get("ours")
    if ours and "tutorial" in batches:
        r = ours.per_second / batches["tutorial"].per_second
        targets.append(Target("batch throughput ≥ 20x the tutorial's", f"{r:.1f}x", r >= 20))
    if ours and "floor" in batches:
        r = ours.median_s / batches["floor"].median_s
        targets.append(Target("batch time ≤ 2x tokenising alone", f"{r:.2f}x", r <= 2))
    return targets


def package_targets(packages: dict[str, PackageRow]) -> list[Target]:
    if "ours" not in packages or "tutorial" not in packages:
        return []
    r = packages["ours"].zipped / packages["tutorial"].zipped
    return [
        Target("zip ≤ ⅕ of the tutorial stack's zipped size", f"{r:.3f} (1/{1 / r:.0f})", r <= 0.2)
    ]


def all_targets(results: Results) -> list[Target]:
    targets = cold_targets(results.cold) if results.cold else []
    targets += warm_targets(results.latencies, results.batches)
    return targets + package_targets(results.packages)


def targets_table(targets: Sequence[Target]) -> str:
    rows = [[t.name, t.measured, "met" if t.met else "**missed**"] for t in targets]
    return table(["target (issue 5)", "measured", ""], rows)


# --- the document --------------------------------------------------------------------------


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
        ("Targets", targets_table(all_targets(results))),
        ("Cold start", cold_table(results.cold) if results.cold else ""),
        ("Warm latency, one message per call", latency_table(results.latencies)),
        ("Batch: every message in one call", batch_table(results.batches)),
        ("Package size, same Lambda target", package_table(results.packages)),
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
