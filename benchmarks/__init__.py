"""The benchmark lab (a development package of the repository, not shipped in the wheel): `python -m benchmarks`.

It imports the product (textgen_export); the product never imports it.  Results go to benchmarks/results/.

suite.py                 the scenarios by name, running them, what makes a run invalid
__main__.py              the command line (`python -m benchmarks --scenario ... [--quick]`, `make bench`)
sampling.py              scenario `sampling`: every runtime × batch × model against the machine's roofs
runtimes.py              the Python runtimes (adapters), cells and results, the validity checks
nodejs.py, browser.py, jsjob.py   Node and Chromium runtimes (the *.mjs here do the timing there)
gpu.py                   which GPU rows a machine can run (pure function of its devices), and how they open
roofs.py                 the machine's roofs measured now: GEMM per library and thread count, int8, cache bandwidth
roofline.py              FLOPs and recurrent bytes per token from the config; each cell's compute and latency roof
training_throughput.py, training_memory.py, web_page.py, distributed.py, ort_options.py   the other scenarios
method.py                timing (warm-up, repetitions until a minimum time, median/p10/p90)
machine.py               what the run ran on (CPU, cores, versions of every runtime)
models.py                the models measured (tiny for --quick, pretrained + a trained word-level model)
rows.py                  the one results format: every figure a row
report.py                results.json, results.md (one llama-bench table per model), PNG charts
reliability.py           not a benchmark: test counts per file and group from a pytest JUnit XML report
"""

from pathlib import Path

LAB = Path(__file__).resolve().parent  # this folder: the JS pages and runners, results/
REPO = LAB.parent  # the checkout: child processes run here so `-m benchmarks.…` and textgen_export resolve
RESULTS = LAB / "results"
