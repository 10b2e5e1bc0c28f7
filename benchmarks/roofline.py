"""The roofline: the model's FLOPs and bytes per call from its config, and the machine's limits measured now.

FLOPs per token (one next-token prediction; the window is recomputed from zero state, docs/design.md §3):
  each LSTM layer, each of max_length steps, each direction: 2·(d_in·4H + H·4H)   (input + recurrent matmuls)
  attention: 2·C per step for the logits and 2·C per step for the weighted sum   (C = concat channels)
  output dense: 2·C·V
Element-wise gate arithmetic, the softmax and the embedding gather are left out (small next to the matmuls).
For the default config (E=100, H=128, 2 layers, L=40, V=465) this is ≈ 20.2 MFLOP.

Each measured cell is bounded by two roofs (roofs.py measures the machine's in the same run):
  compute: tokens/s ≤ best GEMM rate (fp32, or int8 for int8 formats) for the row's thread count / FLOPs per token
  latency: a call's 2·layers·max_length recurrent steps are sequential, and each reads the recurrent kernel
           (H × 4H weights) from cache, so a call lasts at least steps × kernel bytes / cache bandwidth
           (cache bandwidth × threads on several cores: private L2s); B windows share those reads,
           so tokens/s ≤ B / floor.
The tighter of the two is the cell's roof; `bound` says which one it is.
"""

from __future__ import annotations

from textgen_export.contract.config import ModelConfig


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


def model_figures(config: ModelConfig, num_classes: int) -> dict:
    return {
        "flops_per_token": flops_per_token(config, num_classes),
        "weight_bytes_per_call_fp32": weight_bytes_per_call(config, num_classes),
        "recurrent_bytes_per_token_fp32": recurrent_bytes_per_token(config),
    }


def recurrent_bytes_per_token(config: ModelConfig, bytes_per_weight: float = 4.0) -> float:
    """Recurrent-kernel bytes one token's window reads, step after dependent step (all layers, directions)."""
    steps = config.max_length
    return sum(units * 4 * units for _, units in lstm_layers(config)) * steps * bytes_per_weight


def latency_floor_s(
    config: ModelConfig, cache_gbs: float, threads: int, bytes_per_weight: float = 4.0
) -> float:
    """Shortest possible call: the sequential recurrent steps, each reading its kernel at cache speed."""
    return recurrent_bytes_per_token(config, bytes_per_weight) / (cache_gbs * 1e9 * threads)


def row_threads(threads: str, cores: int) -> int:
    """A row's thread count as a number: "1", "2" … as given; "all" and "auto" may use every core."""
    return int(threads) if threads.isdigit() else cores


def cell_roof(
    config: ModelConfig,
    num_classes: int,
    roofs: dict,
    threads: int,
    batch: int,
    int8: bool,
    flops: float | None = None,
) -> dict:
    """{"tok_s": the cell's roof, "bound": "compute" or "latency", and both limits} for a call on `batch`
    windows (`flops` per token: from the config unless given)."""
    key = str(threads) if str(threads) in roofs["compute_fp32"] else str(max(roofs["threads"]))
    compute = (roofs["compute_int8"] if int8 else roofs["compute_fp32"])[key]["gflops"]
    flops = flops or flops_per_token(config, num_classes)
    compute_tok_s = compute * 1e9 / flops if compute else None
    floor = latency_floor_s(config, roofs["cache_bandwidth_gbs"], threads, 1.0 if int8 else 4.0)
    latency_tok_s = batch / floor if floor else None
    limits = {k: v for k, v in (("compute", compute_tok_s), ("latency", latency_tok_s)) if v}
    if not limits:
        return {"tok_s": None, "bound": None}
    bound = min(limits, key=limits.get)
    return {
        "tok_s": limits[bound],
        "bound": bound,
        "compute_tok_s": compute_tok_s,
        "latency_tok_s": latency_tok_s,
        "latency_floor_us": floor * 1e6,
    }
