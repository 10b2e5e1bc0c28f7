"""The roofline: the model's FLOPs and bytes per call from its config, and the machine's limits measured now.

FLOPs per token (one next-token prediction; the window is recomputed from zero state, DESIGN.md §3):
  each LSTM layer, each of max_length steps, each direction: 2·(d_in·4H + H·4H)   (input + recurrent matmuls)
  attention: 2·C per step for the logits and 2·C per step for the weighted sum   (C = concat channels)
  output dense: 2·C·V
Element-wise gate arithmetic, the softmax and the embedding gather are left out (small next to the matmuls).
For the default config (E=100, H=128, 2 layers, L=40, V=465) this is ≈ 20.2 MFLOP.

The machine's compute roof is numpy float32 GEMM (OpenBLAS) measured in the same run, on all cores and on one
core (a subprocess with OPENBLAS_NUM_THREADS=1); the memory roofs are numpy's copy bandwidth for a 256 MB
array (DRAM) and a 1 MB array (cache: the models' weights are 1-7 MB and stay largely on chip). int8 rows can
pass the float32 SGEMM roof: their dot products run on integer (VNNI) units.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from ..spec.config import ModelConfig


def lstm_layers(config: ModelConfig) -> list[tuple[int, int]]:
    """(input width, units) of each LSTM direction."""
    directions = 2 if config.rnn_bidirectional else 1
    layers, width = [], config.dim_embeddings
    for _ in range(config.rnn_layers):
        layers += [(width, config.rnn_size)] * directions
        width = config.rnn_size * directions
    return layers


def concat_channels(config: ModelConfig) -> int:
    directions = 2 if config.rnn_bidirectional else 1
    return config.dim_embeddings + config.rnn_layers * config.rnn_size * directions


def flops_per_token(config: ModelConfig, num_classes: int) -> int:
    steps = config.max_length
    lstm = sum(2 * (width * 4 * units + units * 4 * units) for width, units in lstm_layers(config)) * steps
    channels = concat_channels(config)
    attention = 2 * 2 * channels * steps
    dense = 2 * channels * num_classes
    return lstm + attention + dense


def weight_bytes_per_call(config: ModelConfig, num_classes: int, bytes_per_weight: float = 4.0) -> float:
    """Weight traffic of one call if the LSTM weights are re-read at every step (the usual unfused case).

    This is the roofline's denominator: a batch of B windows shares it, so arithmetic intensity grows with B.
    """
    lstm = sum(width * 4 * units + units * 4 * units + 4 * units for width, units in lstm_layers(config))
    channels = concat_channels(config)
    rest = channels + channels * num_classes + num_classes
    return (lstm * config.max_length + rest) * bytes_per_weight


def intensity(config: ModelConfig, num_classes: int, batch: int, bytes_per_weight: float = 4.0) -> float:
    """FLOPs per byte of weight traffic for a call on `batch` windows."""
    return (
        batch
        * flops_per_token(config, num_classes)
        / weight_bytes_per_call(config, num_classes, bytes_per_weight)
    )


def sgemm_gflops(size: int = 1024, min_time: float = 1.0) -> float:
    """Best float32 GEMM rate of numpy in this process (all the BLAS threads it uses)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    best, spent = float("inf"), 0.0
    while spent < min_time:
        start = time.perf_counter()
        a @ b
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return 2 * size**3 / best / 1e9


def sgemm_gflops_threads(threads: int, size: int = 1024, min_time: float = 1.0) -> float | None:
    """SGEMM rate with `threads` BLAS threads, measured in a fresh process (the pool size is fixed at start)."""
    env = dict(
        os.environ,
        OPENBLAS_NUM_THREADS=str(threads),
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
    )
    code = (
        "import json,sys; from textgen_export.bench.roofline import sgemm_gflops; "
        f"print(json.dumps(sgemm_gflops({size}, {min_time})))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        return float(json.loads(done.stdout.strip().splitlines()[-1]))
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None


def copy_bandwidth(megabytes: float = 256, min_time: float = 0.5) -> float:
    """Best array copy rate in GB/s (bytes read + bytes written): 256 MB = DRAM, 1 MB = on-chip cache."""
    src = np.ones(int(megabytes * 2**20) // 4, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best, spent = float("inf"), 0.0
    while spent < min_time:
        start = time.perf_counter()
        np.copyto(dst, src)
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return 2 * src.nbytes / best / 1e9


def machine_roofs(quick: bool = False) -> dict:
    """Compute and memory roofs of this machine, measured now."""
    min_time = 0.2 if quick else 1.0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return {
        "sgemm_gflops_all_cores": sgemm_gflops(min_time=min_time),
        "sgemm_gflops_1_thread": sgemm_gflops_threads(1, min_time=min_time),
        "cores": cores,
        "copy_bandwidth_gbs": copy_bandwidth(64 if quick else 256, min_time=min_time / 2),
        # the models' weights (1-7 MB) mostly stay in cache, so the cache roof is the one that usually binds
        "cache_bandwidth_gbs": copy_bandwidth(1, min_time=min_time / 2),
        "sgemm_size": 1024,
    }


def model_figures(config: ModelConfig, num_classes: int) -> dict:
    return {
        "flops_per_token": flops_per_token(config, num_classes),
        "weight_bytes_per_call_fp32": weight_bytes_per_call(config, num_classes),
    }
