"""The reliability scenario: the hostile-input, fuzzing and fault-injection test suites, counted.

Each group runs in a pytest child process with a JUnit report; a row per group gives cases passed out of
cases tried. "data lost" counts fault-injection tests that failed (each one checks that earlier files
survived a SIGKILL or an exception part-way through a write, export or training run).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from . import rows

REPO = Path(__file__).resolve().parents[2]
GROUPS = {
    "hostile_inputs": ["tests/integration/test_hostile_inputs.py"],
    "fuzzing": ["tests/unit/test_fuzz_core.py", "tests/integration/test_fuzz_bundle.py"],
    "fault_injection": [
        "tests/unit/test_atomic_writes.py",
        "tests/integration/test_fault_injection.py",
        "tests/integration/test_training_resume.py",
    ],
}
QUICK_GROUPS = {"fault_injection": ["tests/unit/test_atomic_writes.py"]}


def run_group(files: list[str], root: Path = REPO) -> dict:
    present = [f for f in files if (root / f).exists()]
    if not present:
        return {"files": [], "tried": 0, "passed": 0, "failed": [], "skipped": [], "missing": files}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
        subprocess.run([*command, *present], cwd=root, capture_output=True, text=True)
        cases = list(ET.parse(report).getroot().iter("testcase")) if report.exists() else []
    outcomes = []
    for case in cases:
        failed = any(child.tag in ("failure", "error") for child in case)
        skipped = any(child.tag == "skipped" for child in case)
        outcomes.append((case.get("name"), "failed" if failed else "skipped" if skipped else "passed"))
    return {
        "files": present,
        "tried": len(outcomes),
        "passed": sum(o == "passed" for _, o in outcomes),
        "failed": [n for n, o in outcomes if o == "failed"],
        "skipped": [n for n, o in outcomes if o == "skipped"],
    }


def run(quick: bool, log: Callable[[str], None] = print, groups: dict[str, list[str]] | None = None) -> dict:
    groups = groups or (QUICK_GROUPS if quick else GROUPS)
    found, all_rows = {}, []
    for name, files in groups.items():
        log(f"  {name}: {' '.join(files)}")
        g = found[name] = run_group(files)
        status = "ok" if g["tried"] else "failed"
        note = f"{len(g['failed'])} failed: {', '.join(g['failed'][:5])}" if g["failed"] else ""
        all_rows.append(
            rows.row("test suites", name, f"{g['tried']} cases", "cases passed", median=g["passed"], reps=1,
                     tried=g["tried"], status=status, note=note or ("no test file found" if not g["tried"] else ""))
        )  # fmt: skip
    faults = found.get("fault_injection", {"tried": 0, "failed": []})
    return {
        "what": "hostile inputs, fuzzing and fault injection: cases passed",
        "groups": found,
        "cases_tried": sum(g["tried"] for g in found.values()),
        "cases_passed": sum(g["passed"] for g in found.values()),
        "faults_injected": faults["tried"],
        "data_lost": len(faults["failed"]),
        "rows": all_rows,
    }
