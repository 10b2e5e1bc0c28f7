"""GPU rows: which accelerator runtimes a machine can run, decided from the devices it reports.

The decision is a pure function of a `Devices` record (TensorFlow's GPU devices, ONNX Runtime's providers,
nvidia-smi's GPUs), so a test can hand it a fake machine. Rows: TensorFlow on the GPU (Keras picks the cuDNN
LSTM kernel there) without and with XLA, ONNX Runtime's CUDA provider in fp32 and fp16 (weights converted
with onnxruntime's own float16 tool, inputs and outputs kept fp32), and TensorRT. GPU rows measure batch sizes
up to the thousands (GPU_BATCHES). On a machine without a GPU every row says "no GPU here" and why.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

GPU_BATCHES = (1, 64, 256, 1024, 4096)
NO_GPU = "no GPU here"


@dataclass(frozen=True)
class Devices:
    tf_gpus: list[str] = field(default_factory=list)  # tf.config.list_physical_devices("GPU") names
    ort_providers: list[str] = field(default_factory=list)  # onnxruntime.get_available_providers()
    nvidia: list[str] = field(default_factory=list)  # GPU names from nvidia-smi

    @property
    def any_gpu(self) -> bool:
        return bool(self.tf_gpus or self.nvidia)


@functools.cache
def detect() -> Devices:
    """This machine's devices (imports TensorFlow: call it only when a GPU row is about to be decided)."""
    import onnxruntime as ort

    from textgen_export.keras.backend import tf

    from .machine import gpus

    return Devices(
        [d.name for d in tf.config.list_physical_devices("GPU")], ort.get_available_providers(), gpus()
    )


def tf_gpu_reason(devices: Devices) -> str | None:
    if not devices.tf_gpus:
        found = (
            f" (nvidia-smi sees {', '.join(devices.nvidia)}: TensorFlow lacks CUDA)" if devices.nvidia else ""
        )
        return f"{NO_GPU}: TensorFlow sees no GPU device{found}"
    return None


def ort_provider_reason(devices: Devices, provider: str) -> str | None:
    if not devices.any_gpu:
        return f"{NO_GPU}: nvidia-smi finds none, so {provider} cannot run"
    if provider not in devices.ort_providers:
        return f"{provider} is not in this onnxruntime build (install onnxruntime-gpu)"
    return None


def providers_for(provider: str) -> list[str]:
    """The provider list a session gets: the accelerator first, CUDA under TensorRT, CPU as ORT's fallback."""
    chain = [provider] + (["CUDAExecutionProvider"] if provider == "TensorrtExecutionProvider" else [])
    return [*chain, "CPUExecutionProvider"]


@dataclass(frozen=True)
class GpuRow:
    """One GPU runtime: its name, format, and how it runs (TensorFlow device + XLA, or ORT providers)."""

    name: str
    format: str
    tf_device: str | None = None
    jit_compile: bool = False
    providers: tuple[str, ...] = ()

    def reason(self, devices: Devices) -> str | None:
        if self.tf_device:
            return tf_gpu_reason(devices)
        return ort_provider_reason(devices, self.providers[0])


GPU_ROWS = (
    GpuRow("tensorflow-gpu (cuDNN)", "keras", tf_device="/GPU:0"),
    GpuRow("tensorflow-gpu-xla", "keras", tf_device="/GPU:0", jit_compile=True),
    GpuRow("ort-cuda-fp32", "onnx-fp32", providers=tuple(providers_for("CUDAExecutionProvider"))),
    GpuRow("ort-cuda-fp16", "onnx-fp16", providers=tuple(providers_for("CUDAExecutionProvider"))),
    GpuRow("ort-tensorrt-fp32", "onnx-fp32", providers=tuple(providers_for("TensorrtExecutionProvider"))),
)


def plan(devices: Devices) -> list[tuple[GpuRow, str | None]]:
    """Every GPU row with the reason it cannot run here (None: it runs)."""
    return [(row, row.reason(devices)) for row in GPU_ROWS]


def training_devices(devices: Devices) -> list[tuple[str, str | None, str | None]]:
    """(label, TensorFlow device, reason it cannot run) for the training-throughput scenario: always the CPU,
    and the GPU (cuDNN) when TensorFlow sees one, else a row that says why not."""
    return [("cpu", "/CPU:0", None), ("gpu", "/GPU:0", tf_gpu_reason(devices))]


def fp16_model(fp32_path: Path, folder: Path | None = None) -> Path:
    """model.onnx with fp16 weights and fp32 inputs/outputs, written into `folder` (default: a new temp dir;
    never beside the user's files)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(fp32_path)), keep_io_types=True)
    out = Path(folder or tempfile.mkdtemp(prefix="textgen-fp16-")) / "model.fp16.onnx"
    onnx.save(model, str(out))
    return out


def opener(row: GpuRow) -> Callable:
    """How a GPU row opens its adapter for a benchmark model."""

    def open_tf(bench):
        from textgen_export.keras.network import text_model
        from textgen_export.runtime.keras import KerasRuntime

        from .runtimes import DeviceAdapter

        return DeviceAdapter(
            KerasRuntime(text_model(bench.load_keras()), jit_compile=row.jit_compile), row.tf_device
        )

    def open_ort(bench):
        from .runtimes import ProviderAdapter

        path = bench.files["onnx-fp32"]
        if row.format == "onnx-fp16":
            path = fp16_model(path)
        return ProviderAdapter(path, list(row.providers[:-1]))

    return open_tf if row.tf_device else open_ort
