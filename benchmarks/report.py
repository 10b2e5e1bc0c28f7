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

from textgen_export.contract.config import ModelConfig
from textgen_export.files.atomic import atomic_directory

from . import fast_path, rows
from .roofline import cell_roof, intensity, latency_floor_s, lstm_layers, row_threads
from .rows import add_baseline

BASELINE = "keras-predict (textgenrnn way)"
INT8_FORMATS = ("onnx-int8",)


def derive(data: dict) -> dict:
    """Per cell: tok/s (median, p10, p90), chars/s, GFLOP/s, its roof and % of it; then the sampling rows."""
    models = {m["name"]: m for m in data["models"]}
    roofs = data["roofs"]
    cores = max(roofs["threads"])
    for result in data["results"]:
        model = models[result["model"]]
        config = ModelConfig.from_dict(model["config"])
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
            roof = roof_for(result, cell["batch"], config, model, roofs, cores)
            cell["roof_tok_s"], cell["bound"] = roof["tok_s"], roof["bound"]
            cell["roof_compute_tok_s"] = roof.get("compute_tok_s")
            cell["roof_latency_tok_s"] = roof.get("latency_tok_s")
            cell["pct_roof"] = 100 * rate / roof["tok_s"] if roof["tok_s"] else None
    data["rows"] = sampling_rows(data)
    add_baseline(data["rows"], BASELINE)
    return data


def roof_for(result: dict, batch: int, config: ModelConfig, model: dict, roofs: dict, cores: int) -> dict:
    """The cell's roof: CPU rows from the CPU's roofs (roofline.cell_roof), GPU rows from the GPU's GEMM."""
    if result["group"] == "gpu":
        gpu = (roofs.get("gpu") or {}).get("compute_fp16" if "fp16" in result["format"] else "compute_fp32")
        if not gpu or not gpu.get("gflops"):
            return {"tok_s": None, "bound": None}
        return {"tok_s": gpu["gflops"] * 1e9 / model["flops_per_token"], "bound": "compute"}
    threads = row_threads(result["threads"], cores)
    int8 = result["format"] in INT8_FORMATS
    return cell_roof(config, model["num_classes"], roofs, threads, batch, int8, model["flops_per_token"])


def test_name(mode: str, batch: int, gen_length: int) -> str:
    return f"call B={batch}" if mode == "call" else f"gen {gen_length} B={batch}"


def sampling_rows(data: dict) -> list[dict]:
    """Every cell of every runtime as a row of the one results format (rows.py)."""
    out = []
    gen_length = data["plan"]["gen_length"]
    for r in data["results"]:
        labels = {"format": r["format"], "threads": r["threads"]}
        if r["status"] != "ok":
            out.append(
                rows.missing(r["model"], r["runtime"], "–", "tok/s", r["status"], r["reason"], **labels)
            )
            continue
        for c in r["cells"]:
            test = test_name(c["mode"], c["batch"], gen_length)
            if not c["timing"]:
                out.append(
                    rows.missing(r["model"], r["runtime"], test, "tok/s", "skipped", c["note"], **labels)
                )
                continue
            out.append(
                rows.row(
                    r["model"],
                    r["runtime"],
                    test,
                    "tok/s",
                    median=c["tok_s"],
                    p10=c["tok_s_p10"],
                    p90=c["tok_s_p90"],
                    reps=c["timing"]["reps"],
                    pct_roof=c["pct_roof"],
                    roof=c["roof_tok_s"],
                    bound=c["bound"],
                    roof_compute=c.get("roof_compute_tok_s"),
                    roof_latency=c.get("roof_latency_tok_s"),
                    gflops=c["gflops"],
                    **labels,
                )
            )
    return out


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def fmt_figure(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"


def model_table(table_rows: list[dict]) -> str:
    """llama-bench style: one line per runtime × test; the figure with its p10–p90 spread, × baseline, % roof."""
    units = {r["unit"] for r in table_rows}
    unit_head = units.pop() if len(units) == 1 else "value"
    lines = [
        f"| runtime | format | threads | test | {unit_head} (p10–p90) | × baseline | % of roof |",
        "|---|---|--:|---|--:|--:|--:|",
    ]
    for r in table_rows:
        if r["status"] != "ok":
            continue
        unit = "" if unit_head != "value" else f" {r['unit']}"
        spread = ""  # a single measurement has no spread to show
        if r.get("p10") is not None and (r.get("reps") or 0) > 1:
            spread = f" ({fmt_figure(r['p10'])}–{fmt_figure(r['p90'])})"
        if r.get("sd") is not None and r.get("p10") is None:
            spread = f" ± {fmt_figure(r['sd'])}"
        ratio = f"{r['x_baseline']:,.1f}×" if r.get("x_baseline") else "–"
        roof = f"{r['pct_roof']:.0f} ({r['bound']})" if r.get("pct_roof") is not None else "–"
        # bits per token: formats differ in the third or fourth decimal
        figure = f"{r['median']:.4f}" if r["unit"].startswith("bits") else fmt_figure(r["median"])
        lines.append(
            f"| {r['runtime']} | {r['format'] or '–'} | {r['threads'] or '–'} | {r['test']} | "
            f"{figure}{unit}{spread} | {ratio} | {roof} |"
        )
    return "\n".join(lines)


def tables(all_rows: list[dict]) -> str:
    """One table per model (rows in measured order), then what did not run or was skipped."""
    parts = []
    for model in dict.fromkeys(r["model"] for r in all_rows):
        chosen = [r for r in all_rows if r["model"] == model]
        if any(r["status"] == "ok" for r in chosen):
            parts.append(f"#### {model}\n\n{model_table(chosen)}")
    skipped = [r for r in all_rows if r["status"] == "skipped"]
    if skipped:
        parts.append(
            "Skipped (over the time caps): "
            + "; ".join(f"{r['model']} · {r['runtime']} t{r['threads']} {r['test']}" for r in skipped)
        )
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


def machine_lines(machine: dict, renderers: set[str] = frozenset()) -> str:
    m = machine
    versions = {k: v for k, v in m["python"].items() if v}
    npm = {k: v for k, v in m["npm"].items() if v}
    return "\n".join(
        [
            f"- CPU: {m['cpu']} ({m['cores']['usable']} usable cores; {', '.join(m['cpu_flags'])}), "
            f"{m['memory_gb']} GB RAM, GPU: {', '.join(m['gpus']) or 'none'}",
            "- Python: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
            f"- Node {m['node'] or 'absent'}: " + ", ".join(f"{k} {v}" for k, v in npm.items()),
            f"- Chromium: {m['chromium'] or 'absent'} (flags: {' '.join(m.get('chromium_flags', []))})"
            + "".join(f"; WebGL renderer: {name}" for name in sorted(renderers)),
        ]
    )


def roofs_table(roofs: dict) -> str:
    """The compute roofs per thread count (every library measured, the best is the roof) and the latency inputs."""
    libraries = list(next(iter(roofs["gemm_gflops"].values())))
    theory = roofs.get("theoretical") or {}
    lines = [
        "| threads | "
        + " | ".join(f"{lib} fp32 GEMM" for lib in libraries)
        + " | **fp32 roof** | ORT int8 GEMM (**int8 roof**) | theoretical fp32 / int8 |",
        "|--:|" + "--:|" * (len(libraries) + 3),
    ]
    for t in map(str, roofs["threads"]):
        rates = roofs["gemm_gflops"][t]
        best = roofs["compute_fp32"][t]
        peak = (theory.get("fp32_gflops") or {}).get(t)
        peak8 = (theory.get("int8_gops") or {}).get(t)
        lines.append(
            f"| {t} | "
            + " | ".join(_num(rates[lib], ",.0f") for lib in libraries)
            + f" | **{_num(best['gflops'], ',.0f')}** ({best['library'] or '–'}) | "
            f"{_num(roofs['compute_int8'][t]['gflops'], ',.0f')} | {_num(peak, ',.0f')} / {_num(peak8, ',.0f')} |"
        )
    notes = [
        f"GFLOP/s (GOP/s for int8) on a {roofs['gemm_size']}² product, best repetition, each thread count in a "
        "fresh process.",
        f"Cache bandwidth (one core, 256 KB–1 MB buffer in L2): {roofs['cache_bandwidth_gbs']:.0f} GB/s "
        f"(best of {', '.join(f'{k} {v:.0f}' for k, v in roofs['cache_bandwidth_by_method'].items())}); DRAM copy "
        f"{roofs['dram_bandwidth_gbs']:.0f} GB/s.",
    ]
    if theory:
        notes.append(
            f"Theoretical: {theory['assumption']} at {theory['clock_mhz']:,.0f} MHz ({theory['clock_source']}); "
            "a reference only: a measured rate above it means the cores boost past the reported clock."
        )
    if roofs.get("gpu"):
        notes.append(f"GPU GEMM: {json.dumps(roofs['gpu']['gemm_gflops'])}")
    return "\n".join(lines) + "\n\n" + " ".join(notes)


def latency_lines(data: dict) -> str:
    roofs = data["roofs"]
    out = []
    for m in data["models"]:
        config = ModelConfig.from_dict(m["config"])
        floor = latency_floor_s(config, roofs["cache_bandwidth_gbs"], 1) * 1e6
        out.append(
            f"- **{m['name']}**: {len(lstm_layers(config)) * config.max_length} sequential recurrent steps per "
            f"token, each reading a {config.rnn_size}×{4 * config.rnn_size} fp32 kernel "
            f"({config.rnn_size * 4 * config.rnn_size * 4 / 1024:.0f} KB): floor **{floor:,.1f} µs/token** on one "
            f"core (≤ {1e6 / floor:,.0f} tok/s for one stream; int8 weights: a quarter of that floor)"
        )
    return "\n".join(out)


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


def sampling_markdown(data: dict) -> str:
    plan = data["plan"]
    budget = plan["budget"]
    return f"""Models:
{models_lines(data)}

Method: {budget["warmup"]} warm-up call(s), then repetitions until {budget["min_time"]} s and at least
{budget["min_reps"]} repetitions (a call slower than {budget["max_time"]} s is measured once); median tok/s with
the 10th–90th percentile range. *call B*: one `probs(windows)` call on B windows (B tokens).
*gen {plan["gen_length"]} B*: the shared sampler generating B texts of up to {plan["gen_length"]} tokens at
temperature {plan["temperature"]} (seeded), tokens produced / time. × baseline: against
`{BASELINE}` on the same model and test, in this run. % of roof: tok/s over the tighter of the row's two roofs
(compute: best GEMM for its thread count and number format; latency: the sequential recurrent steps at cache
bandwidth, shared by the batch) — the word in brackets says which one binds.

### Roofs measured in this run

{roofs_table(data["roofs"])}

Latency roof for one stream:
{latency_lines(data)}

### Speed

{targets_lines(data)}

{tables(data["rows"])}

### Padding fast path vs full path

{fast_path.markdown(data.get("fast_path") or {"reason": "not in this run"})}

### Start-up, memory and validity

{startup_table(data)}

### Runtimes that did not run

{missing_table(data)}

### Bundle size per format

{sizes_table(data)}
"""


ADAPTER = "ort-cpu-fp32 (default adapter)"


def targets_lines(data: dict) -> str:
    """The two targets for the product's adapter: batched (B=64, all cores) ≥ 80 % of the compute roof, one
    stream ≥ 50 % of the latency roof — from this run's cells (generation, the way users run it).

    The targets' latency roof is one core's: the sequential steps reading each kernel from that core's cache.
    The table's roof for the adapter's row is stricter (every core's cache, as if the steps could be split
    across cores at no cost); the one-stream line gives both.  How far each run got: benchmarks/README.md."""
    out = []
    gen = data["plan"]["gen_length"]
    roofs = data["roofs"]
    for m in data["models"]:
        found = {(r["test"]): r for r in data["rows"] if r["model"] == m["name"] and r["runtime"] == ADAPTER}
        parts = []
        for batch, roof, target in ((64, "compute", 80), (1, "latency", 50)):
            r = found.get(f"gen {gen} B={batch}")
            if not r or not r.get(f"roof_{roof}"):
                parts.append(f"B={batch}: not measured")
                continue
            pct = 100 * r["median"] / r[f"roof_{roof}"]
            if roof == "compute":
                met = "met" if pct >= target else "not met"
                parts.append(
                    f"B={batch}: {fmt_figure(r['median'])} tok/s = {pct:.0f} % of the compute roof "
                    f"(target ≥ {target} %: {met})"
                )
                continue
            config = ModelConfig.from_dict(m["config"])
            one_core = 100 * r["median"] * latency_floor_s(config, roofs["cache_bandwidth_gbs"], 1)
            met = "met" if one_core >= target else "not met"
            parts.append(
                f"B={batch}: {fmt_figure(r['median'])} tok/s = {one_core:.0f} % of one core's latency roof "
                f"(target ≥ {target} %: {met}); {pct:.0f} % of the stricter all-cores roof in the table"
            )
        out.append(f"- **{m['name']}**, {ADAPTER}, gen {gen}: " + "; ".join(parts))
    return "Targets:\n" + "\n".join(out)


def renderers(data: dict) -> set[str]:
    return {r["checks"]["device"] for r in data.get("results", []) if r.get("checks", {}).get("device")}


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
    compute = [
        (
            roofs[key][t]["gflops"],
            f"{kind} {t} thread{'s' if t != '1' else ''} ({roofs[key][t]['library']})",
            style,
        )
        for key, kind, style in (("compute_fp32", "fp32 GEMM", "-"), ("compute_int8", "int8 GEMM", "-."))
        for t in map(str, roofs["threads"])
        if roofs[key][t]["gflops"]
    ]
    top = max(peak for peak, _, _ in compute)
    markers = "osD^v<>pPX*hH8d"
    for ax, model in zip(axes[0], models, strict=True):
        for k, (peak, label, style) in enumerate(compute):
            ax.plot(
                xs,
                np.full_like(xs, peak),
                style,
                color=str(0.1 + 0.15 * k),
                lw=1.2,
                label=f"roof: {label} {peak:.0f}",
            )
        for gbs, label, color in (
            (roofs["dram_bandwidth_gbs"], "DRAM copy", "0.35"),
            (roofs["cache_bandwidth_gbs"], "L2, one core", "0.65"),
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
        f"Roofline — {data['machine']['cpu']}, {data['machine']['cores']['usable']} cores (int8 rows: against the int8 roof)"
    )
    fig.tight_layout()
    fig.savefig(folder / "roofline.png", dpi=100)
    plt.close(fig)
    return "roofline.png"


def scenario_markdown(name: str, data: dict) -> str:
    head = f"## {name}: {data.get('what', '')}\n\n{data['started']} → {data['finished']}"
    if data.get("status") != "ok":
        return f"{head}\n\n**{data.get('status')}**: {data.get('note', '')}"
    if name == "sampling":
        return f"{head}\n\n{sampling_markdown(data)}"
    body = tables(data["rows"]) or "Nothing measured."
    missing = [r for r in data["rows"] if r["status"] in ("unavailable", "failed")]
    if missing:
        body += "\n\nNot measured:\n" + "\n".join(
            f"- {r['model']} · {r['runtime']} · {r['test']}: {r['status']}: {r['note']}" for r in missing
        )
    return f"{head}\n\n{body}"


def markdown(run_data: dict, command: str) -> str:
    sampling = run_data["scenarios"].get("sampling", {})
    return (
        f"""# textgen-export benchmark — {run_data["started"][:10]}

Made by: `{command}` ({"quick mode: timings are indicative only" if run_data["quick"] else "full run"}),
{run_data["started"]} → {run_data["finished"]}. Every figure: median with the 10th–90th percentile of its
repetitions; the full grid is in results.json (`scenarios.<name>.rows`).

{machine_lines(run_data["machine"], renderers(sampling))}

"""
        + "\n\n".join(scenario_markdown(name, data) for name, data in run_data["scenarios"].items())
        + "\n"
    )


def write(run_data: dict, out: Path, command: str) -> list[str]:
    """Write results.json, results.md and the charts into `out` (replaced as a whole, atomically)."""
    sampling = run_data["scenarios"].get("sampling")
    if sampling and sampling.get("status") == "ok":
        derive(sampling)
    run_data["command"] = command
    with atomic_directory(out) as tmp:
        (tmp / "results.json").write_text(
            json.dumps(run_data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (tmp / "results.md").write_text(markdown(run_data, command), encoding="utf-8")
        files = ["results.json", "results.md"]
        if sampling and sampling.get("status") == "ok" and sampling["models"]:
            files += charts({**sampling, "machine": run_data["machine"]}, tmp)
    return files


def summary(run_data: dict) -> str:
    """What the command prints at the end: every scenario's tables."""
    return "\n\n".join(
        f"{name}:\n{tables(data['rows'])}" for name, data in run_data["scenarios"].items() if data.get("rows")
    )
