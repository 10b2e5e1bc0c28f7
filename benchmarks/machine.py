"""What a benchmark ran on: CPU model, cores, memory, and the version of every runtime measured."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from textgen_export.web.page import web_demo_dir

PYTHON_PACKAGES = (
    "numpy",
    "tensorflow",
    "keras",
    "onnxruntime",
    "onnx",
    "tf2onnx",
    "playwright",
    "matplotlib",
)
NPM_PACKAGES = (
    "@tensorflow/tfjs",
    "@tensorflow/tfjs-backend-wasm",
    "@tensorflow/tfjs-node",
    "onnxruntime-web",
    "onnxruntime-node",
    "playwright-core",
)
CHROMIUM = "/usr/bin/chromium"
WEB_DEMO = web_demo_dir()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The SIMD extensions that decide how fast SGEMM and the runtimes' kernels can be."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile")
                return [f for f in wanted if f in flags]
    except OSError:
        pass
    return []


def cores() -> dict[str, int | None]:
    import psutil

    return {
        "logical": os.cpu_count(),
        "physical": psutil.cpu_count(logical=False),
        "usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
    }


def python_versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PYTHON_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def npm_versions(root: Path = WEB_DEMO) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in NPM_PACKAGES:
        manifest = root / "node_modules" / name / "package.json"
        try:
            found[name] = json.loads(manifest.read_text())["version"]
        except (OSError, ValueError, KeyError):
            found[name] = None
    return found


def command_version(cmd: list[str]) -> str | None:
    if not shutil.which(cmd[0]):
        return None
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if done.returncode == 0 and text else None


def gpus() -> list[str]:
    """GPU names from nvidia-smi; empty when there is none (the GPU rows then say so)."""
    out = command_version(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
    return [out] if out else []


def machine_info() -> dict:
    import psutil

    return {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": cores(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "gpus": gpus(),
        "python": python_versions(),
        "node": command_version(["node", "--version"]),
        "npm": npm_versions(),
        "chromium": command_version([CHROMIUM, "--version"]) if Path(CHROMIUM).exists() else None,
    }


def machine_slug(info: dict) -> str:
    """A folder-name-safe machine label: CPU model and usable cores, e.g. `amd-epyc-2c`."""
    cpu = re.sub(r"\((r|tm)\)|cpu|processor|@.*$|\d+-core", "", info["cpu"].lower())
    slug = re.sub(r"[^a-z0-9]+", "-", cpu).strip("-")[:40] or "cpu"
    gpu = "-gpu" if info.get("gpus") else ""
    return f"{slug}-{info['cores']['usable']}c{gpu}"
