"""Benchmark outputs: derived figures (tok/s, ratio to baseline, % of roofline), JSON, markdown, PNG charts.

benchmarks/results/<date>-<machine>/
  results.json   everything measured, machine facts and versions, the plan, derived figures
  results.md     llama-bench-style table, start-up/validity table, unavailable runtimes, bundle sizes
  speed-<model>.png   tok/s by runtime and batch (log scale), model call and end-to-end
  roofline.png        achieved GFLOP/s against the machine's measured compute and memory roofs
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..files.atomic import atomic_directory
from ..spec.config import ModelConfig
from .roofline import intensity

BASELINE = "keras-predict (textgenrnn way)"
INT8_FORMATS = ("onnx-int8",)


def derive(data: dict) -> dict:
    """Add per-cell tok/s (median, p10, p90), chars/s, ratio to the baseline, GFLOP/s and % of roofline."""
    models = {m["name"]: m for m in data["models"]}
    roofs = data["roofs"]
    baseline = {
        (r["model"], c["batch"], c["mode"]): c["tokens"] / c["timing"]["median"]
        for r in data["results"]
        if r["runtime"] == BASELINE and r["status"] == "ok"
        for c in r["cells"]
        if c["timing"]
    }
    for result in data["results"]:
        model = models[result["model"]]
        peak = roofs["sgemm_gflops_1_thread"] if result["threads"] == "1" else roofs["sgemm_gflops_all_cores"]
        for cell in result["cells"]:
            timing = cell["timing"]
            if not timing:
                continue
            rate = cell["tokens"] / timing["median"]
            cell["tok_s"] = rate
            cell["tok_s_p10"] = (
                cell["tokens"] / timing["p90"]
            )  # the slow tail: 10% of repetitions were slower
            cell["tok_s_p90"] = cell["tokens"] / timing["p10"]
            cell["chars_s"] = cell["chars"] / timing["median"] if cell["chars"] else None
            cell["gflops"] = rate * model["flops_per_token"] / 1e9
            cell["pct_roofline"] = 100 * cell["gflops"] / peak if peak else None
            base = baseline.get((result["model"], cell["batch"], cell["mode"]))
            cell["x_baseline"] = rate / base if base else None
    return data


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def speed_table(data: dict) -> str:
    lines = [
        "| model | runtime | format | threads | B | test | tok/s | p10–p90 tok/s | × baseline | GFLOP/s | % roofline |",
        "|---|---|---|--:|--:|---|--:|--:|--:|--:|--:|",
    ]
    for r in data["results"]:
        if r["status"] != "ok":
            continue
        for c in r["cells"]:
            test = "model call" if c["mode"] == "call" else f"generate {data['plan']['gen_length']}"
            if not c["timing"]:
                lines.append(
                    f"| {r['model']} | {r['runtime']} | {r['format']} | {r['threads']} | {c['batch']} | {test} | "
                    f"{c['note'] or 'not measured'} | | | | |"
                )
                continue
            ratio = f"{c['x_baseline']:,.1f}×" if c.get("x_baseline") else "–"
            pct = f"{c['pct_roofline']:.1f}" if c.get("pct_roofline") is not None else "–"
            lines.append(
                f"| {r['model']} | {r['runtime']} | {r['format']} | {r['threads']} | {c['batch']} | {test} | "
                f"{fmt_rate(c['tok_s'])} | {fmt_rate(c['tok_s_p10'])}–{fmt_rate(c['tok_s_p90'])} | {ratio} | "
                f"{c['gflops']:.2f} | {pct} |"
            )
    return "\n".join(lines)


def compact_table(data: dict, model: str, mode: str) -> str:
    """One row per runtime, one column per batch: median tok/s and its ratio to the baseline."""
    batches = data["plan"]["batches"]
    head = (
        "| runtime | format | threads | "
        + " | ".join(f"B={b} tok/s (× base)" for b in batches)
        + " | best % roofline |"
    )
    lines = [head, "|---|---|--:|" + "--:|" * len(batches) + "--:|"]
    for r in data["results"]:
        if r["model"] != model or r["status"] != "ok":
            continue
        cells = {c["batch"]: c for c in r["cells"] if c["mode"] == mode}
        values = []
        for b in batches:
            c = cells.get(b)
            if not c or not c["timing"]:
                values.append("skipped" if c else "–")
                continue
            ratio = f" ({c['x_baseline']:,.1f}×)" if c.get("x_baseline") else ""
            values.append(f"{fmt_rate(c['tok_s'])}{ratio}")
        roofs = [c["pct_roofline"] for c in cells.values() if c.get("pct_roofline") is not None]
        best = f"{max(roofs):.1f}" if roofs else "–"
        lines.append(
            f"| {r['runtime']} | {r['format']} | {r['threads']} | " + " | ".join(values) + f" | {best} |"
        )
    return "\n".join(lines)


def summary_tables(data: dict) -> str:
    parts = []
    for m in data["models"]:
        for mode, title in (
            ("call", "model call"),
            ("e2e", f"generate {data['plan']['gen_length']} tokens per text"),
        ):
            parts.append(f"### {m['name']}: {title}\n\n{compact_table(data, m['name'], mode)}")
    return "\n\n".join(parts)


def startup_table(data: dict) -> str:
    lines = [
        "| model | runtime | threads | load ms | first token ms | peak RSS MB | max abs diff vs float64 | max \\|Σp−1\\| | greedy = reference |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in data["results"]:
        if r["status"] != "ok":
            continue
        ch = r["checks"]
        diff = ch.get("max_abs_diff_vs_float64")
        greedy = "yes" if ch.get("greedy_matches") else "NO"
        if not ch.get("greedy_matches") and r["format"] in INT8_FORMATS:
            greedy = "no (quantised)"
        lines.append(
            f"| {r['model']} | {r['runtime']} | {r['threads']} | {_num(r['load_s'] and r['load_s'] * 1000, ',.1f')} | "
            f"{_num(r['first_token_s'] and r['first_token_s'] * 1000, ',.1f')} | {_num(r['peak_rss_mb'], ',.0f')} | "
            f"{_num(diff, '.1e')} | {_num(ch.get('max_sum_error'), '.1e')} | {greedy} |"
        )
    return "\n".join(lines)


def _num(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def missing_table(data: dict) -> str:
    rows = {}
    for r in data["results"]:
        if r["status"] != "ok":
            rows.setdefault((r["runtime"], r["threads"], r["status"], r["reason"]), []).append(r["model"])
    if not rows:
        return "Every runtime ran."
    lines = ["| runtime | threads | status | why | models |", "|---|--:|---|---|---|"]
    for (runtime, threads, status, reason), names in rows.items():
        lines.append(
            f"| {runtime} | {threads} | {status} | {reason.replace('|', '/')} | {', '.join(names)} |"
        )
    return "\n".join(lines)


def sizes_table(data: dict) -> str:
    lines = ["| model | format | bytes | MB |", "|---|---|--:|--:|"]
    for m in data["models"]:
        for fmt, size in m["sizes"].items():
            if size is None:
                why = m["unavailable_formats"].get(fmt, "not exported")
                lines.append(f"| {m['name']} | {fmt} | – | {why.replace('|', '/')} |")
            else:
                lines.append(f"| {m['name']} | {fmt} | {size:,} | {size / 1e6:.2f} |")
    return "\n".join(lines)


def machine_lines(data: dict) -> str:
    m, roofs = data["machine"], data["roofs"]
    versions = {k: v for k, v in m["python"].items() if v}
    npm = {k: v for k, v in m["npm"].items() if v}
    return "\n".join(
        [
            f"- CPU: {m['cpu']} ({m['cores']['usable']} usable cores; {', '.join(m['cpu_flags'])}), "
            f"{m['memory_gb']} GB RAM, GPU: {', '.join(m['gpus']) or 'none'}",
            f"- measured in this run: numpy SGEMM {roofs['sgemm_gflops_all_cores']:.0f} GFLOP/s on all cores, "
            f"{roofs['sgemm_gflops_1_thread'] or 0:.0f} on 1 thread; copy bandwidth {roofs['copy_bandwidth_gbs']:.0f} GB/s "
            f"(256 MB, DRAM), {roofs.get('cache_bandwidth_gbs') or 0:.0f} GB/s (1 MB, cache)",
            "- Python: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
            f"- Node {m['node'] or 'absent'}: " + ", ".join(f"{k} {v}" for k, v in npm.items()),
            f"- Chromium: {m['chromium'] or 'absent'} (flags: {' '.join(m.get('chromium_flags', []))})"
            + "".join(
                sorted(
                    {
                        f"; WebGL renderer: {r['checks']['device']}"
                        for r in data["results"]
                        if r.get("checks", {}).get("device")
                    }
                )
            ),
        ]
    )


def models_lines(data: dict) -> str:
    out = []
    for m in data["models"]:
        c = m["config"]
        out.append(
            f"- **{m['name']}**: {'word' if c['word_level'] else 'char'} level, {c['rnn_layers']}×{c['rnn_size']} "
            f"LSTM{' (bidirectional)' if c['rnn_bidirectional'] else ''}, max_length {c['max_length']}, "
            f"{m['num_classes']} classes; {m['flops_per_token'] / 1e6:.2f} MFLOP per token; {m.get('origin', '')}"
        )
    return "\n".join(out)


def markdown(data: dict, command: str) -> str:
    plan = data["plan"]
    budget = plan["budget"]
    return f"""# textgen-export benchmark — {data["started"][:10]}

Command: `{command}` ({"quick mode: timings are indicative only" if data["quick"] else "full run"}),
{data["started"]} → {data["finished"]}.

{machine_lines(data)}

Models:
{models_lines(data)}

Method: {budget["warmup"]} warm-up call(s), then repetitions until {budget["min_time"]} s and at least
{budget["min_reps"]} repetitions (a call slower than {budget["max_time"]} s is measured once); median tok/s with
the 10th–90th percentile range. *model call*: one `probs(windows)` call on B windows (B tokens).
*generate {plan["gen_length"]}*: the shared sampler generating B texts of up to {plan["gen_length"]} tokens at
temperature {plan["temperature"]} (seeded), tokens produced / time. × baseline: against
`{BASELINE}` on the same model, batch and test, in this run. % roofline: achieved GFLOP/s over the SGEMM
peak for the row's thread count.

## Speed (median tokens/s; × baseline in brackets)

{summary_tables(data)}

## Start-up, memory and validity

{startup_table(data)}

## Runtimes that did not run

{missing_table(data)}

## Bundle size per format

{sizes_table(data)}

## All measurements (llama-bench style)

{speed_table(data)}
"""


def charts(data: dict, folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for model in data["models"]:
        rows = [
            r for r in data["results"] if r["model"] == model["name"] and r["status"] == "ok" and r["cells"]
        ]
        if not rows:
            continue
        batches = data["plan"]["batches"]
        fig, axes = plt.subplots(2, 1, figsize=(12, 9), sharex=True)
        labels = [f"{r['runtime']} ({r['group']}, t{r['threads']})" for r in rows]
        width = 0.8 / len(batches)
        for ax, mode, title in zip(
            axes, ("call", "e2e"), ("model call", "end-to-end generation"), strict=True
        ):
            for k, batch in enumerate(batches):
                values = []
                for r in rows:
                    cell = next((c for c in r["cells"] if c["batch"] == batch and c["mode"] == mode), None)
                    values.append(cell["tok_s"] if cell and cell.get("tok_s") else 0)
                xs = [i + (k - (len(batches) - 1) / 2) * width for i in range(len(rows))]
                ax.bar(xs, values, width, label=f"B={batch}")
            if ax.has_data() and any(p.get_height() > 0 for p in ax.patches):
                ax.set_yscale("log")
            ax.set_ylabel("tokens/s (log)")
            ax.set_title(f"{model['name']}: {title}")
            ax.grid(axis="y", which="both", alpha=0.3)
            ax.legend(ncol=len(batches), fontsize=8)
        axes[1].set_xticks(range(len(rows)))
        axes[1].set_xticklabels(labels, rotation=40, ha="right", fontsize=8)
        fig.tight_layout()
        name = f"speed-{model['name']}.png"
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        written.append(name)
    written.append(roofline_chart(data, folder, plt))
    return written


def roofline_chart(data: dict, folder: Path, plt) -> str:
    """One panel per model: each runtime's model-call GFLOP/s against arithmetic intensity, under the roofs."""

    roofs = data["roofs"]
    models = data["models"]
    fig, axes = plt.subplots(1, len(models), figsize=(8 * len(models) + 3, 7), squeeze=False)
    xs = np.logspace(-1, 3.5, 200)
    top = max(roofs["sgemm_gflops_all_cores"], roofs["sgemm_gflops_1_thread"] or 0)
    markers = "osD^v<>pPX*hH8d"
    for ax, model in zip(axes[0], models, strict=True):
        for peak, label, style in (
            (roofs["sgemm_gflops_all_cores"], "all cores", "-"),
            (roofs["sgemm_gflops_1_thread"], "1 thread", "--"),
        ):
            if peak:
                ax.plot(
                    xs,
                    np.full_like(xs, peak),
                    "k" + style,
                    lw=1.2,
                    label=f"roof: SGEMM {label} {peak:.0f} GFLOP/s",
                )
        for gbs, label, color in (
            (roofs["copy_bandwidth_gbs"], "DRAM copy (256 MB)", "0.35"),
            (roofs.get("cache_bandwidth_gbs"), "cache copy (1 MB)", "0.65"),
        ):
            if gbs:
                ax.plot(
                    xs,
                    np.minimum(top, gbs * xs),
                    color=color,
                    ls=":",
                    lw=1.5,
                    label=f"roof: {label} {gbs:.0f} GB/s",
                )
        config = ModelConfig.from_dict(model["config"])
        rows = [r for r in data["results"] if r["model"] == model["name"] and r["status"] == "ok"]
        for i, r in enumerate(rows):
            bytes_per_weight = 1.0 if r["format"] in INT8_FORMATS else 4.0
            cells = [c for c in r["cells"] if c["mode"] == "call" and c.get("gflops")]
            if cells:
                ax.plot(
                    [intensity(config, model["num_classes"], c["batch"], bytes_per_weight) for c in cells],
                    [c["gflops"] for c in cells],
                    marker=markers[i % len(markers)],
                    color=plt.cm.tab20(i % 20),
                    lw=0.8,
                    label=f"{r['runtime']} ({r['group']}, t{r['threads']})",
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("FLOP per byte of weights read per call (batch 1 → 256 left to right)")
        ax.set_ylabel("achieved GFLOP/s, model call (log)")
        ax.set_title(f"{model['name']} ({model['flops_per_token'] / 1e6:.1f} MFLOP/token)")
        ax.grid(which="both", alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(
        f"Roofline — {data['machine']['cpu']}, {data['machine']['cores']['usable']} cores (int8 may pass the fp32 roof)"
    )
    fig.tight_layout()
    fig.savefig(folder / "roofline.png", dpi=100)
    plt.close(fig)
    return "roofline.png"


def write(data: dict, out: Path, command: str) -> list[str]:
    """Write results.json, results.md and the charts into `out` (replaced as a whole, atomically)."""
    derive(data)
    data["command"] = command
    with atomic_directory(out) as tmp:
        (tmp / "results.json").write_text(
            json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (tmp / "results.md").write_text(markdown(data, command), encoding="utf-8")
        files = ["results.json", "results.md", *charts(data, tmp)]
    return files
