"""Test counts, not a benchmark: cases per test file, marker and reliability group, from a pytest JUnit report.

    pytest --junitxml=test-artifacts/junit.xml ...     # any run; `make reliability` runs the groups' files
    python -m benchmarks.reliability test-artifacts/junit.xml [--out benchmarks/results/reliability.md]
    python -m benchmarks.reliability --list             # the groups' test files

The groups are the hostile-input, trust, fuzzing and fault-injection suites (GROUPS); "data lost" counts the
fault-injection cases that failed (each checks that earlier files survive a SIGKILL or an exception part-way
through a write, export or training run).  A group none of whose files ran reads "not in this run".  Markers
(slow, node, browser, gpu; "unmarked" for none) come from each case's "markers" property, which tests/conftest.py
records.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from textgen_export.files.atomic import write_text

from . import REPO, RESULTS

GROUPS = {
    "hostile inputs": ["tests/integration/test_hostile_inputs.py"],
    "trust (attacker's way)": [
        "tests/integration/test_trust_bundle.py",
        "tests/integration/test_trust_node.py",
        "tests/integration/test_trust_out.py",
        "tests/integration/test_trust_serve.py",
        "tests/integration/test_training_inputs.py",
        "tests/integration/test_server_faults.py",
    ],
    "fuzzing": ["tests/unit/test_fuzz_core.py", "tests/integration/test_fuzz_bundle.py"],
    "fault injection": [
        "tests/unit/test_atomic_writes.py",
        "tests/integration/test_fault_injection.py",
        "tests/integration/test_training_resume.py",
    ],
}
OUTCOMES = ("passed", "failed", "skipped")


def test_file(classname: str, root: Path = REPO) -> str:
    """tests.unit.test_layout[.TestClass] → tests/unit/test_layout.py (the longest prefix that is a file under root)."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if (root / candidate).is_file():
            return candidate
    return "/".join(parts) + ".py"


def read_cases(report: Path, root: Path = REPO) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(file, test name, outcome, markers) of every test case in a JUnit XML report."""
    cases = []
    for case in ET.parse(report).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        outcome = "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
        marked = [p.get("value", "") for p in case.iter("property") if p.get("name") == "markers"]
        markers = tuple(m for m in ",".join(marked).split(",") if m)
        cases.append((test_file(case.get("classname", ""), root), case.get("name", ""), outcome, markers))
    return cases


def counts(cases: list[tuple[str, str, str, tuple[str, ...]]]) -> dict:
    """Outcome counts per file, marker and group, the failed cases by name, and the fault-injection data lost."""
    per_file: dict[str, Counter] = {}
    per_marker: dict[str, Counter] = {}
    for file, _, outcome, markers in cases:
        per_file.setdefault(file, Counter())[outcome] += 1
        for marker in markers or ("unmarked",):
            per_marker.setdefault(marker, Counter())[outcome] += 1
    groups = {}
    for name, files in GROUPS.items():
        ran = [f for f in files if f in per_file]
        total = sum((per_file[f] for f in ran), Counter())
        groups[name] = {"files": ran, **{o: total[o] for o in OUTCOMES}}
    return {
        "files": {f: {o: c[o] for o in OUTCOMES} for f, c in sorted(per_file.items())},
        "markers": {m: {o: c[o] for o in OUTCOMES} for m, c in sorted(per_marker.items())},
        "groups": groups,
        "failed": [f"{file}::{name}" for file, name, outcome, _ in cases if outcome == "failed"],
        "data_lost": groups["fault injection"]["failed"],
    }


def run_time(report: Path) -> str:
    """When the reported test run started (the JUnit testsuite's timestamp), or "unknown"."""
    suite = next(ET.parse(report).getroot().iter("testsuite"), None)
    return (suite.get("timestamp") if suite is not None else None) or "unknown"


def markdown(found: dict, report: Path) -> str:
    lines = [
        "# Test counts",
        "",
        f"From the pytest JUnit report `{report}` of the run started {run_time(report)} (`make reliability` runs",
        f"the groups' files), by `python -m benchmarks.reliability {report}`.",
        "",
        "| group | passed | failed | skipped |",
        "|---|---:|---:|---:|",
    ]
    for name, g in found["groups"].items():
        if g["files"]:
            lines.append(f"| {name} | {g['passed']} | {g['failed']} | {g['skipped']} |")
        else:
            lines.append(f"| {name} | not in this run | | |")
    lines += ["", f"Fault-injection cases that lost data: {found['data_lost']}."]
    for what in ("marker", "file"):
        lines += ["", f"| test {what} | passed | failed | skipped |", "|---|---:|---:|---:|"]
        lines += [
            f"| {k} | {c['passed']} | {c['failed']} | {c['skipped']} |" for k, c in found[what + "s"].items()
        ]
    if found["failed"]:
        lines += ["", "Failed:", *(f"- `{name}`" for name in found["failed"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reliability", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "junit", type=Path, nargs="?", help="a pytest JUnit XML report (pytest --junitxml=PATH)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "reliability.md", help="markdown to write")
    parser.add_argument("--list", action="store_true", help="print the groups' test files and stop")
    args = parser.parse_args(argv)
    if args.list:
        print(" ".join(f for files in GROUPS.values() for f in files))
        return 0
    if args.junit is None:
        parser.error("give a JUnit XML report (pytest --junitxml=PATH), or --list")
    try:
        found = counts(read_cases(args.junit))
    except (OSError, ET.ParseError) as exc:
        print(
            f"{parser.prog}: error: cannot read {args.junit} as a JUnit XML report ({exc})", file=sys.stderr
        )
        return 2
    write_text(args.out, markdown(found, args.junit))
    tried = sum(sum(c.values()) for c in found["files"].values())
    print(f"{tried} cases, {len(found['failed'])} failed; wrote {args.out}")
    return 1 if found["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
