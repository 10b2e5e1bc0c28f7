"""What `export` may be asked for, checked before TensorFlow loads (TF-free)."""

from __future__ import annotations

from ..errors import UserError

ONNX_QUANTIZE = ("int8",)
TFJS_QUANTIZE = ("float16", "uint8")


def check_options(onnx: bool, tfjs: bool, quantize: str | None) -> None:
    if not (onnx or tfjs):
        raise UserError("nothing to export: give --onnx, --tfjs or both")
    if quantize is None:
        return
    if quantize in ONNX_QUANTIZE and not onnx:
        raise UserError(f"--quantize {quantize} applies to the ONNX model; add --onnx")
    if quantize in TFJS_QUANTIZE and not tfjs:
        raise UserError(f"--quantize {quantize} applies to the TF.js weights; add --tfjs")
    if quantize not in ONNX_QUANTIZE + TFJS_QUANTIZE:
        raise UserError(
            f"--quantize must be one of {', '.join(ONNX_QUANTIZE + TFJS_QUANTIZE)}, got {quantize!r}"
        )
