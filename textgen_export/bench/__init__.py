"""The one benchmark suite behind `textgen-export bench`: named scenarios, one results format, one report.

suite.py                 the scenarios by name, running them, what makes a run invalid
sampling.py              scenario `sampling`: every runtime × batch × model against the machine's roofs
runtimes.py              the Python runtimes (adapters), cells and results, the validity checks
nodejs.py, browser.py, jsjob.py   Node and Chromium runtimes (benchmarks/*.mjs do the timing there)
gpu.py                   which GPU rows a machine can run (pure function of its devices), and how they open
roofs.py                 the machine's roofs measured now: GEMM per library and thread count, int8, cache bandwidth
roofline.py              FLOPs and recurrent bytes per token from the config; each cell's compute and latency roof
training_throughput.py, training_memory.py, web_page.py, reliability.py   the other scenarios
method.py                timing (warm-up, repetitions until a minimum time, median/p10/p90)
machine.py               what the run ran on (CPU, cores, versions of every runtime)
models.py                the models measured (tiny for --quick, pretrained + a trained word-level model)
rows.py                  the one results format: every figure a row
report.py                results.json, results.md (one llama-bench table per model), PNG charts
"""
