"""The machine's roofs, measured in the same run as the figures they bound.

Compute roof, per thread count: the best 1024² GEMM any library present reaches — numpy (OpenBLAS), ONNX
Runtime's MatMul (MLAS) and TensorFlow's matmul. They differ: on this project's AMD EPYC numpy's OpenBLAS runs
its Haswell (AVX2) kernel while MLAS uses AVX-512 (docs/design.md §4), so a numpy-only roof is passed by ORT.
int8 roof: ONNX Runtime's MatMulInteger (uint8 × int8 → int32), the op dynamic quantisation uses.
Each thread count is measured in a fresh process (BLAS and TF thread pools are sized once, at start).

Beside it, the theoretical peak from the ISA and clock when /proc/cpuinfo shows them (SIMD lanes × 2 for FMA
× 2 FMA ports — an assumption, printed — × clock × cores): a reference, not the roof, because a VM's reported
clock is often the base clock, below what the cores boost to.

Cache bandwidth (for the latency roof, roofline.latency_floor_s): the best rate of one core moving a 256 KB–
1 MB buffer that stays in its L2 — numpy copy (bytes read + written, as STREAM counts) or a GEMV that reads it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import REPO

GEMM_SIZE = 1024
LIBRARIES = ("numpy", "onnxruntime", "tensorflow")


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def best_seconds(call, min_time: float, min_reps: int = 3) -> float:
    """Fastest of repeated calls after one warm-up: the roof is what the library can do, not its average."""
    call()
    best, spent, reps = float("inf"), 0.0, 0
    while spent < min_time or reps < min_reps:
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        best, spent, reps = min(best, elapsed), spent + elapsed, reps + 1
    return best


def matmul_model(size: int, int8: bool):
    """A one-node ONNX graph: A (fed) × B (initialiser), float32 MatMul or uint8×int8 MatMulInteger."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    if int8:
        b = rng.integers(-127, 128, (size, size), dtype=np.int8)
        node = helper.make_node("MatMulInteger", ["A", "B"], ["Y"])
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
    else:
        b = rng.standard_normal((size, size), dtype=np.float32)
        node = helper.make_node("MatMul", ["A", "B"], ["Y"])
        a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
    graph = helper.make_graph(
        [node],
        "gemm",
        [helper.make_tensor_value_info("A", a_type, [size, size])],
        [helper.make_tensor_value_info("Y", y_type, [size, size])],
        [numpy_helper.from_array(b, "B")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def ort_gemm(threads: int, size: int, min_time: float, int8: bool = False, providers=None) -> float:
    """GFLOP/s (GOP/s for int8) of ONNX Runtime on one size² × size² product."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = ort.InferenceSession(
        matmul_model(size, int8).SerializeToString(),
        options,
        providers=providers or ["CPUExecutionProvider"],
    )
    rng = np.random.default_rng(1)
    if int8:
        a = rng.integers(0, 256, (size, size), dtype=np.uint8)
    else:
        a = rng.standard_normal((size, size), dtype=np.float32)
    return 2 * size**3 / best_seconds(lambda: session.run(None, {"A": a}), min_time) / 1e9


def numpy_gemm(size: int, min_time: float) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty_like(a)
    return 2 * size**3 / best_seconds(lambda: np.matmul(a, b, out=out), min_time) / 1e9


def tf_gemm(size: int, min_time: float, device: str = "/CPU:0", dtype: str = "float32") -> float:
    """TensorFlow matmul; `.numpy()` of one element waits for the device (a no-op wait on the CPU)."""
    from textgen_export.keras.backend import tf

    with tf.device(device):
        a = tf.random.normal((size, size), dtype=dtype)
        b = tf.random.normal((size, size), dtype=dtype)

        def call():
            return tf.linalg.matmul(a, b)[0, 0].numpy()

        return 2 * size**3 / best_seconds(call, min_time) / 1e9


def gemm_here(threads: int, size: int, min_time: float) -> dict:
    """Every library's GEMM in this process (run with the thread count fixed in the environment)."""
    found: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    measures = {
        "numpy": lambda: numpy_gemm(size, min_time),
        "onnxruntime": lambda: ort_gemm(threads, size, min_time),
        "onnxruntime_int8": lambda: ort_gemm(threads, size, min_time, int8=True),
        "tensorflow": lambda: tf_gemm(size, min_time),
    }
    for name, measure in measures.items():
        try:
            found[name] = measure()
        except Exception as exc:  # a library that is absent or broken is a reason, not a crashed benchmark
            found[name] = None
            errors[name] = f"{type(exc).__name__}: {str(exc)[:160]}"
    return {"gflops": found, "errors": errors}


def thread_env(threads: int) -> dict[str, str]:
    value = str(threads)
    return dict(
        os.environ,
        OPENBLAS_NUM_THREADS=value,
        OMP_NUM_THREADS=value,
        MKL_NUM_THREADS=value,
        TF_NUM_INTRAOP_THREADS=value,
        TF_NUM_INTEROP_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
    )


def gemm_in_subprocess(threads: int, size: int = GEMM_SIZE, min_time: float = 1.0) -> dict:
    """gemm_here in a fresh process whose BLAS/TF pools have `threads` threads."""
    command = [sys.executable, "-m", "benchmarks.roofs", str(threads), str(size), str(min_time)]
    try:
        done = subprocess.run(
            command, env=thread_env(threads), capture_output=True, text=True, timeout=600, cwd=REPO
        )
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        return {"gflops": dict.fromkeys([*LIBRARIES, "onnxruntime_int8"]), "errors": {"all": repr(exc)}}


def cache_bandwidth(min_time: float = 0.2) -> dict:
    """One core's best rate on buffers that stay in L2: numpy copy (read + write bytes) and GEMV (read)."""
    best = {"copy": 0.0, "gemv": 0.0}
    for kib in (256, 512, 1024):
        matrix = np.ones((kib * 256 // 512, 512), dtype=np.float32)
        target = np.empty_like(matrix)
        vector = np.ones((1, matrix.shape[0]), dtype=np.float32)
        out = np.empty((1, 512), dtype=np.float32)
        copy = best_seconds(lambda m=matrix, t=target: np.copyto(t, m), min_time / 6, min_reps=200)
        gemv = best_seconds(lambda v=vector, m=matrix, o=out: np.dot(v, m, out=o), min_time / 6, 200)
        best["copy"] = max(best["copy"], 2 * matrix.nbytes / copy / 1e9)
        best["gemv"] = max(best["gemv"], matrix.nbytes / gemv / 1e9)
    return {"gbs": max(best.values()), "by_method": best}


def dram_bandwidth(megabytes: int = 256, min_time: float = 0.5) -> float:
    """numpy copy rate (read + write bytes) of an array far larger than the caches."""
    src = np.ones(megabytes * 2**20 // 4, dtype=np.float32)
    dst = np.empty_like(src)
    return 2 * src.nbytes / best_seconds(lambda: np.copyto(dst, src), min_time) / 1e9


def cpu_clock_mhz() -> tuple[float | None, str]:
    """The highest clock the OS reports: cpufreq's maximum if there, else /proc/cpuinfo's `cpu MHz`."""
    try:
        khz = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text().strip()
        return int(khz) / 1000, "cpufreq cpuinfo_max_freq"
    except (OSError, ValueError):
        pass
    try:
        found = re.findall(r"^cpu MHz\s*:\s*([\d.]+)", Path("/proc/cpuinfo").read_text(), re.M)
        if found:
            return max(map(float, found)), "/proc/cpuinfo cpu MHz (may be the base clock, not the boost)"
    except OSError:
        pass
    return None, "no clock readable"


FMA_PORTS = 2  # per core; typical of current x86 server cores, not readable from /proc/cpuinfo


def theoretical_peak(flags: list[str], cores: int) -> dict | None:
    """fp32 FLOP/s and int8 OP/s the ISA and clock allow, or None when either is unknown."""
    mhz, source = cpu_clock_mhz()
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags or "avx" in flags else 4 if flags else 0
    if not mhz or not lanes:
        return None
    fma = 2 if "fma" in flags or "avx512f" in flags else 1
    per_cycle = lanes * fma * (FMA_PORTS if fma == 2 else 1)
    vnni = "avx512_vnni" in flags or "avx_vnni" in flags
    per_thread = {str(t): per_cycle * mhz / 1000 * t for t in sorted({1, cores})}
    return {
        "clock_mhz": mhz,
        "clock_source": source,
        "isa": "avx512f" if lanes == 16 else "avx2" if lanes == 8 else "sse",
        "fp32_flop_per_cycle_per_core": per_cycle,
        "assumption": f"{lanes} fp32 lanes × {fma} (FMA) × {FMA_PORTS} FMA ports per core",
        "fp32_gflops": per_thread,
        # VNNI: one instruction does 4 int8 multiply-adds per fp32 lane
        "int8_gops": {t: 4 * v for t, v in per_thread.items()} if vnni else None,
    }


def machine_roofs(flags: list[str], quick: bool = False, gpu: bool = False) -> dict:
    """Every roof of this machine, measured now (quick: shorter timings, same quantities)."""
    min_time = 0.2 if quick else 1.0
    cores = usable_cores()
    threads = sorted({1, cores})
    gemm, gemm_int8, errors = {}, {}, {}
    for t in threads:
        measured = gemm_in_subprocess(t, GEMM_SIZE, min_time)
        rates = measured["gflops"]
        gemm[str(t)] = {lib: rates.get(lib) for lib in LIBRARIES}
        gemm_int8[str(t)] = {"onnxruntime": rates.get("onnxruntime_int8")}
        errors[str(t)] = measured.get("errors", {})
    compute = {t: best_of(rates) for t, rates in gemm.items()}
    compute_int8 = {t: best_of(rates) for t, rates in gemm_int8.items()}
    cache = cache_bandwidth(min_time)
    return {
        "threads": threads,
        "gemm_size": GEMM_SIZE,
        "gemm_gflops": gemm,
        "gemm_int8_gops": gemm_int8,
        "gemm_errors": {t: e for t, e in errors.items() if e},
        "compute_fp32": compute,
        "compute_int8": compute_int8,
        "cache_bandwidth_gbs": cache["gbs"],
        "cache_bandwidth_by_method": cache["by_method"],
        "dram_bandwidth_gbs": dram_bandwidth(64 if quick else 256, min_time / 2),
        "theoretical": theoretical_peak(flags, cores),
        "gpu": gpu_roofs(min_time) if gpu else None,
    }


def best_of(rates: dict[str, float | None]) -> dict:
    """{"gflops": the best rate, "library": who reached it} (None when nothing ran)."""
    present = {lib: rate for lib, rate in rates.items() if rate}
    if not present:
        return {"gflops": None, "library": None}
    library = max(present, key=present.get)
    return {"gflops": present[library], "library": library}


def gpu_roofs(min_time: float) -> dict:
    """The GPU's GEMM rates: TensorFlow fp32/fp16 on /GPU:0 and ORT's CUDA provider; each None if absent."""
    found: dict[str, float | None] = {}
    trials = {
        "tensorflow_fp32": lambda: tf_gemm(4096, min_time, "/GPU:0", "float32"),
        "tensorflow_fp16": lambda: tf_gemm(4096, min_time, "/GPU:0", "float16"),
        "onnxruntime_cuda_fp32": lambda: ort_gemm(1, 4096, min_time, providers=["CUDAExecutionProvider"]),
    }
    for name, trial in trials.items():
        try:
            found[name] = trial()
        except Exception:  # no such device or provider here
            found[name] = None
    return {
        "gemm_gflops": found,
        "compute_fp32": best_of({k: v for k, v in found.items() if "fp16" not in k}),
        "compute_fp16": best_of({k: v for k, v in found.items() if "fp16" in k}),
    }


if __name__ == "__main__":  # python -m benchmarks.roofs THREADS SIZE MIN_TIME (see gemm_in_subprocess)
    print(json.dumps(gemm_here(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))))
