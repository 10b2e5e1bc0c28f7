"""Run the reliability suites and write benchmarks/results/reliability.json.

    .venv/bin/python benchmarks/reliability.py

Groups: the hostile-input table (tests/hostile_cases.py), property/fuzz tests, and fault injection (SIGKILL
or exceptions part-way through writes, exports and training).  "data_lost" counts fault-injection tests that
found a previously saved file or directory changed or missing — any failure there.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GROUPS = {
    "hostile_inputs": ["tests/integration/test_hostile_inputs.py"],
    "fuzzing": ["tests/unit/test_fuzz_core.py", "tests/integration/test_fuzz_bundle.py"],
    "fault_injection": [
        "tests/unit/test_atomic_writes.py",
        "tests/integration/test_fault_injection.py",
        "tests/integration/test_training_resume.py",
    ],
}


def run_group(files: list[str]) -> dict:
    present = [f for f in files if (REPO / f).exists()]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={report}",
                *present,
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        cases = ET.parse(report).getroot().iter("testcase")
        results = []
        for case in cases:
            failed = any(child.tag in ("failure", "error") for child in case)
            skipped = any(child.tag == "skipped" for child in case)
            results.append(
                {
                    "name": case.get("name"),
                    "file": case.get("classname"),
                    "outcome": "failed" if failed else "skipped" if skipped else "passed",
                }
            )
    return {
        "files": present,
        "tried": len(results),
        "passed": sum(r["outcome"] == "passed" for r in results),
        "failed": [r["name"] for r in results if r["outcome"] == "failed"],
        "skipped": [r["name"] for r in results if r["outcome"] == "skipped"],
    }


def main() -> int:
    groups = {name: run_group(files) for name, files in GROUPS.items()}
    result = {
        "command": ".venv/bin/python benchmarks/reliability.py",
        "date": datetime.date.today().isoformat(),
        "groups": groups,
        "cases_tried": sum(g["tried"] for g in groups.values()),
        "cases_passed": sum(g["passed"] for g in groups.values()),
        "faults_injected": groups["fault_injection"]["tried"],
        "data_lost": len(groups["fault_injection"]["failed"]),
    }
    out = REPO / "benchmarks" / "results" / "reliability.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "groups"}, indent=2))
    return 0 if result["cases_tried"] == result["cases_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
