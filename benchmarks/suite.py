"""The one benchmark suite (`python -m benchmarks`): named scenarios, one results format (rows.py), one report (report.py).

sampling             every runtime × batch size on the same models, against the machine's roofs (default)
web                  the web page's runtimes driven through its Generate button, and the Node CLI's
training-throughput  our tf.data pipeline vs a textgenrnn-style per-sample generator, CPU and GPU
training-memory      peak RSS of `train --largetext` on a large generated text
distributed          multi-worker training windows/s on 1 and 2 workers, and the bytes each step all-reduces
ort-options          ONNX Runtime session settings and thread counts, each against the adapter's own settings

Test counts (hostile inputs, fuzzing, fault injection) are not a benchmark: reliability.py reads them from a
pytest JUnit report (`make reliability`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from . import sampling
from .browser import FLAGS
from .machine import machine_info

SCENARIOS = (
    "sampling",
    "web",
    "training-throughput",
    "training-memory",
    "distributed",
    "ort-options",
)
DEFAULT = ("sampling",)


def run_scenario(name: str, options: sampling.Options, info: dict, log: Callable[[str], None]) -> dict:
    quick = options.quick
    if name == "sampling":
        return sampling.run(options, info, log)
    if name == "web":
        from . import web_page

        return web_page.run(quick, log)
    if name == "training-throughput":
        from . import training_throughput

        return training_throughput.run(quick, log)
    if name == "training-memory":
        from . import training_memory

        return training_memory.run(quick, log)
    if name == "distributed":
        from . import distributed

        return distributed.run(quick, log)
    if name == "ort-options":
        from . import ort_options

        return ort_options.run(quick, log)
    raise ValueError(f"unknown scenario {name!r}")


def run(names, options: sampling.Options, log: Callable[[str], None] = print) -> dict:
    """Run the named scenarios in order on this machine; returns the run's data (report.write writes it)."""
    started = dt.datetime.now(dt.UTC)
    info = machine_info()
    info["chromium_flags"] = FLAGS
    scenarios = {}
    for name in names:
        log(f"scenario {name}")
        begun = dt.datetime.now(dt.UTC)
        try:
            data = run_scenario(name, options, info, log)
        except Exception as exc:  # one broken scenario is a failed section, not a lost run
            data = {
                "what": name,
                "status": "failed",
                "note": f"{type(exc).__name__}: {exc}"[:300],
                "rows": [],
            }
        data.setdefault("status", "ok")
        data["started"] = begun.isoformat(timespec="seconds")
        data["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        scenarios[name] = data
    return {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": options.quick,
        "machine": info,
        "scenarios": scenarios,
    }


def problems(run_data: dict) -> list[str]:
    """What makes a run invalid: failed scenarios or rows, sampling validity, figures above their roof.
    (Unavailable is not a problem: it says why.)"""
    found = []
    for name, data in run_data["scenarios"].items():
        if data.get("status") == "failed":
            found.append(f"{name}: {data.get('note')}")
        if name == "sampling" and "results" in data:
            found += sampling.problems(data)
            continue
        for r in data.get("rows", []):
            if r["status"] == "failed":
                found.append(f"{name}: {r['model']} · {r['runtime']} {r['test']}: {r['note']}")
    return found
