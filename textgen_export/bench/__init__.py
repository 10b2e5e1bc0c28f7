"""The benchmark suite behind `textgen-export bench`: runtimes × batch sizes × models, one run, one table.

method.py    timing (warm-up, repetitions until a minimum time, median/p10/p90)
machine.py   what the run ran on (CPU, cores, versions of every runtime)
roofline.py  FLOPs per token from the config, SGEMM peak and memory bandwidth measured in the same run
models.py    the models measured (tiny for --quick, pretrained + a trained word-level model) and their bundles
scenarios.py one object per runtime (Python in-process, Node, Chromium); unavailable → a row saying why
report.py    JSON, llama-bench-style markdown table, PNG charts
suite.py     runs it all
"""
