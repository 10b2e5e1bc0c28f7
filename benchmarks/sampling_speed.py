"""Sampling speed, CPU, pretrained default model: the issue's two targets measured side by side in one run.

    .venv/bin/python benchmarks/sampling_speed.py

1. n=1, end to end (window → ONNX Runtime → sampling → next token) vs the textgenrnn way: Keras
   `model.predict` once per character with textgenrnn's numpy sampler.  Target ≥ 150×.
2. n=64 chars/s vs the roofline = numpy SGEMM GFLOP/s (measured now) / FLOPs per char of the model.
   Target ≥ 80 %.
Plus the measurements behind the ONNX Runtime adapter's settings (threads per batch size, IO binding).
Writes benchmarks/results/sampling_speed-cpu.json and .md.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"
TEMPERATURE = 0.5


def flops_per_char(config, num_classes: int) -> int:
    """Multiply-adds ×2 of one next-token prediction: every LSTM step over the whole window (exact window
    semantics, no carried state), attention, and the softmax layer (elementwise work left out)."""
    directions = 2 if config.rnn_bidirectional else 1
    units, steps = config.rnn_size, config.max_length
    total, inputs = 0, config.dim_embeddings
    for _ in range(config.rnn_layers):
        total += directions * steps * 2 * 4 * units * (inputs + units)
        inputs = directions * units
    channels = config.dim_embeddings + config.rnn_layers * directions * units
    total += 2 * 2 * steps * channels  # attention logits + weighted sum
    total += 2 * channels * num_classes  # output layer
    return total


def sgemm_gflops(repeats: int = 10) -> dict:
    """numpy float32 matrix product, best of `repeats` at each size, all cores numpy uses."""
    rng = np.random.default_rng(0)
    best = {}
    for n in (512, 1024, 2048):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        a @ b
        seconds = min(_timed(lambda a=a, b=b: a @ b) for _ in range(repeats))
        best[n] = 2 * n**3 / seconds / 1e9
    return {"by_size": best, "gflops": max(best.values())}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def textgenrnn_way(model, vocab, config, chars: int) -> dict:
    """textgenrnn 2.0's generate loop: encode the window, `model.predict(batch_size=1)`, numpy sampling."""
    rng = np.random.default_rng(0)
    index_to_token = vocab.index_to_token
    text = ["<s>"]
    model.predict(np.zeros((1, config.max_length), np.int32), batch_size=1, verbose=0)  # first call traces
    start = time.perf_counter()
    for _ in range(chars):
        encoded = np.array([vocab.token_to_index.get(t, 0) for t in text[-config.max_length :]])
        window = np.zeros((1, config.max_length), np.int32)  # keras.preprocessing pad_sequences (pre)
        window[0, config.max_length - len(encoded) :] = encoded
        preds = np.asarray(model.predict(window, batch_size=1, verbose=0)[0]).astype("float64")
        preds = np.exp(np.log(preds + 1e-7) / TEMPERATURE)
        preds = preds / np.sum(preds)
        index = int(np.argmax(rng.multinomial(1, preds, 1)))
        if index == 0:
            index = int(np.argsort(preds)[-2])
        text.append(index_to_token.get(index, ""))  # (runs on past an end marker: only the time counts)
    seconds = time.perf_counter() - start
    return {"chars": chars, "seconds": seconds, "chars_per_s": chars / seconds}


def generate_tokens(generator, n: int, min_tokens: int, seed: int = 0) -> dict:
    """Generator.generate's own loop (start, advance until every row finished, detokenise), repeated with
    new seeds until `min_tokens` tokens were produced; every produced token (end marker included) counts."""
    tokens = calls = 0
    start = time.perf_counter()
    while tokens < min_tokens:
        batch = generator.start(n=n, temperature=TEMPERATURE, max_gen_length=300, seed=seed)
        while batch.active.size:
            generator.advance(batch)
            calls += 1
        [generator.finish_text(row.tokens) for row in batch.rows]
        tokens += sum(len(row.tokens) - 1 for row in batch.rows)
        seed += n
    seconds = time.perf_counter() - start
    return {
        "n": n,
        "tokens": tokens,
        "model_calls": calls,
        "seconds": seconds,
        "chars_per_s": tokens / seconds,
    }


def adapter_settings(model_path: Path, num_classes: int, max_length: int) -> dict:
    """Windows/s of bare ORT calls at several batch sizes with 1 thread and with all cores, and IO binding."""
    import onnxruntime as ort

    from textgen_export.runtime.onnx import open_session

    rng = np.random.default_rng(1)
    table = {}
    for threads in (1, os.cpu_count() or 1):
        session = open_session(model_path, threads)
        row = {}
        for batch in (1, 4, 8, 16, 64):
            windows = rng.integers(0, num_classes, (batch, max_length), dtype=np.int32)
            repeats = max(10, 400 // batch)
            for _ in range(5):
                session.run(["probs"], {"windows": windows})
            seconds = min(
                _timed(
                    lambda s=session, w=windows, k=repeats: [
                        s.run(["probs"], {"windows": w}) for _ in range(k)
                    ]
                )
                for _ in range(3)
            )
            row[batch] = batch * repeats / seconds
        table[f"threads={threads}"] = row
    session = open_session(model_path, 1)
    window = rng.integers(0, num_classes, (1, max_length), dtype=np.int32)
    binding = session.io_binding()
    binding.bind_ortvalue_input("windows", ort.OrtValue.ortvalue_from_numpy(window))
    out = np.empty((1, num_classes), np.float32)
    binding.bind_output("probs", "cpu", 0, np.float32, [1, num_classes], out.ctypes.data)
    binding.bind_output("attention")
    plain = min(
        _timed(lambda: [session.run(["probs"], {"windows": window}) for _ in range(500)]) for _ in range(3)
    )
    bound = min(_timed(lambda: [session.run_with_iobinding(binding) for _ in range(500)]) for _ in range(3))
    return {
        "bare_lstm_b1_us_by_input_width": bare_lstm_us(),
        "windows_per_s": table,
        "b1_us_per_call": {"run": plain / 500 * 1e6, "io_binding": bound / 500 * 1e6},
    }


def bare_lstm_us(input_sizes=(1, 100, 128), hidden: int = 128, steps: int = 40) -> dict:
    """µs per call of one bare ONNX LSTM op at B=1, 1 thread, by input width: what the layer-1 input
    projection (the part an embedding·kernel lookup table would remove) costs next to the recurrence."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    result = {}
    for inputs in input_sizes:
        weights = [
            numpy_helper.from_array((rng.standard_normal((1, 4 * hidden, n)) * 0.1).astype(np.float32), name)
            for name, n in (("W", inputs), ("R", hidden))
        ]
        graph = helper.make_graph(
            [helper.make_node("LSTM", ["X", "W", "R"], ["Y"], hidden_size=hidden)],
            "lstm",
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [steps, 1, inputs])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
            weights,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        x = rng.standard_normal((steps, 1, inputs)).astype(np.float32)
        for _ in range(20):
            session.run(None, {"X": x})
        seconds = min(
            _timed(lambda s=session, x=x: [s.run(None, {"X": x}) for _ in range(300)]) for _ in range(3)
        )
        result[inputs] = seconds / 300 * 1e6
    return result


def machine() -> dict:
    import onnxruntime

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def main() -> int:
    if "--markdown-only" in sys.argv:  # re-render the .md from the last results, without measuring again
        result = json.loads((RESULTS / "sampling_speed-cpu.json").read_text())
        (RESULTS / "sampling_speed-cpu.md").write_text(markdown(result))
        return 0
    from textgen_export.api.textgen import TextGen
    from textgen_export.export.writer import export_bundle
    from textgen_export.runtime import load_bundle

    tg = TextGen.pretrained()
    with tempfile.TemporaryDirectory() as tmp:
        export_bundle(tg.model, tg.vocab, tg.config, Path(tmp) / "bundle", log=lambda _: None)
        runtime = load_bundle(Path(tmp) / "bundle")
        flops = flops_per_char(tg.config, tg.vocab.num_classes)
        sgemm = sgemm_gflops()
        baseline = textgenrnn_way(tg.model, tg.vocab, tg.config, chars=30)
        keras_n1 = generate_tokens(tg.generator, n=1, min_tokens=300)
        onnx_n1 = generate_tokens(runtime.generator, n=1, min_tokens=4000)
        onnx_n64 = generate_tokens(runtime.generator, n=64, min_tokens=20000)
        sgemm_after = sgemm_gflops()
        settings = adapter_settings(
            Path(tmp) / "bundle" / "model.onnx", tg.vocab.num_classes, tg.config.max_length
        )
    gflops = max(sgemm["gflops"], sgemm_after["gflops"])
    roofline = gflops * 1e9 / flops
    ratio_n1 = onnx_n1["chars_per_s"] / baseline["chars_per_s"]
    share_n64 = onnx_n64["chars_per_s"] / roofline
    result = {
        "command": ".venv/bin/python benchmarks/sampling_speed.py",
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "model": {
            "config": tg.config.to_dict(),
            "num_classes": tg.vocab.num_classes,
            "flops_per_char": flops,
        },
        "temperature": TEMPERATURE,
        "sgemm": {"before": sgemm, "after": sgemm_after, "gflops_used": gflops},
        "roofline_chars_per_s": roofline,
        "textgenrnn_way_n1": baseline,
        "keras_tf_function_n1": keras_n1,
        "onnx_n1": onnx_n1,
        "onnx_n64": onnx_n64,
        "targets": {
            "n1_speedup_vs_textgenrnn": {"value": ratio_n1, "target": 150, "met": ratio_n1 >= 150},
            "n64_share_of_roofline": {"value": share_n64, "target": 0.8, "met": share_n64 >= 0.8},
        },
        "adapter_settings": settings,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sampling_speed-cpu.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "sampling_speed-cpu.md").write_text(markdown(result))
    print(markdown(result))
    return 0


def markdown(r: dict) -> str:
    t = r["targets"]
    settings = r["adapter_settings"]
    batches = list(next(iter(settings["windows_per_s"].values())))
    lines = [
        "# Sampling speed, CPU, pretrained default model",
        "",
        f"Made by `{r['command']}` on {r['date']}: {r['machine']['cpu']}, {r['machine']['logical_cores']} logical "
        f"cores, onnxruntime {r['machine']['onnxruntime']}, numpy {r['machine']['numpy']}. Temperature "
        f"{r['temperature']}, max_gen_length 300, exact window semantics (every token recomputes the "
        f"{r['model']['config']['max_length']}-token window from zero state).",
        "",
        "| what | chars/s | ratio | target | met |",
        "|---|---:|---:|---:|:---:|",
        f"| textgenrnn way (Keras `model.predict` per char, n=1) | {r['textgenrnn_way_n1']['chars_per_s']:,.1f} | 1× | | |",
        f"| our Keras path (`tf.function`, n=1) | {r['keras_tf_function_n1']['chars_per_s']:,.0f} | "
        f"{r['keras_tf_function_n1']['chars_per_s'] / r['textgenrnn_way_n1']['chars_per_s']:,.0f}× | | |",
        f"| **ONNX Runtime, n=1, end to end** | {r['onnx_n1']['chars_per_s']:,.0f} | "
        f"{t['n1_speedup_vs_textgenrnn']['value']:,.0f}× | ≥ 150× | {'yes' if t['n1_speedup_vs_textgenrnn']['met'] else 'no'} |",
        f"| roofline: {r['sgemm']['gflops_used']:,.0f} GFLOP/s numpy SGEMM / {r['model']['flops_per_char'] / 1e6:.2f} "
        f"MFLOP per char | {r['roofline_chars_per_s']:,.0f} | 100 % | | |",
        f"| **ONNX Runtime, n=64, end to end** | {r['onnx_n64']['chars_per_s']:,.0f} | "
        f"{t['n64_share_of_roofline']['value']:.0%} of roofline | ≥ 80 % | {'yes' if t['n64_share_of_roofline']['met'] else 'no'} |",
        "",
        "n=64 counts every produced token while rows finish at different times and drop out of the batch, so the "
        "batch shrinks towards the end of each round.",
        "",
        "## What the adapter settings rest on (bare ORT calls, windows/s)",
        "",
        "| session | " + " | ".join(f"B={b}" for b in batches) + " |",
        "|---|" + "---:|" * len(batches),
    ]
    for name, row in settings["windows_per_s"].items():
        lines.append(f"| {name} | " + " | ".join(f"{row[b]:,.0f}" for b in batches) + " |")
    io = settings["b1_us_per_call"]
    lstm = settings["bare_lstm_b1_us_by_input_width"]
    widths = ", ".join(f"{w} → {us:.0f} µs" for w, us in lstm.items())
    lines += [
        "",
        "The adapter keeps two sessions (1 thread, all cores) and races them on live calls per batch-size class "
        "(below 8 windows, 8 or more), keeping the faster and racing again every 4,000 calls: which one wins at "
        "B=1 depends on whether the other core is busy (this machine is shared), and thread count never changes "
        "the results (bit for bit, tested).",
        "",
        "## What else was tried",
        "",
        f"- **IO binding** at B=1: {io['io_binding']:.0f} µs per call vs {io['run']:.0f} µs with `session.run`: "
        "within noise, not used (the adapter's own Python work per call is a few µs).",
        "- **Graph clean-up** (dropping the shape/cast nodes tf2onnx emits for zero initial states and "
        "negative embedding indices): a few per cent at B=1, not worth a graph-rewriting pass; not kept.",
        "- **Embedding·kernel lookup table for the first LSTM's input projection**: ONNX's `LSTM` op always "
        "computes X·Wᵀ itself, so a precomputed projection could only enter through an identity W of width 4H "
        "(more FLOPs) or by unrolling the recurrence into per-step ops (hundreds of nodes, each with µs of "
        "overhead). And the projection is a small share at B=1: one bare ONNX LSTM (40 steps, 128 units, 1 "
        f"thread) by input width: {widths}. Not done.",
        "- **Pipelining the two layers across cores** (each LSTM split into chunks that pass their state on, run "
        "with `ORT_PARALLEL` so layer 2 on chunk k overlaps layer 1 on chunk k+1; exact, same outputs bit for "
        "bit): no gain on this shared 2-core machine; not kept.",
        "- **Why n=1 stops here**: each character needs 2 × 40 sequential LSTM steps (exact windows restart from "
        "zero state), each reading a 256 KB recurrent kernel for one row; that recurrence is most of the bare "
        "LSTM time above, and only batching (n > 1) amortises it.",
        "- **The baseline** varies with Keras' per-call overhead: DESIGN.md measured 58 ms per `model.predict` "
        "on an earlier day, so the n=1 ratio is only meaningful within one run (as above).",
        "",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
