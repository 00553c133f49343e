"""Text about the engine's estimates: receptive-field dims, memory in torchinfo's MB, the footer and the notes
that explain what the table shows (the engine computes the figures; this says them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnncalc.engine.receptive_field import format_dims

if TYPE_CHECKING:
    from cnncalc.engine.memory import MemoryEstimate
    from cnncalc.engine.receptive_field import ReceptiveField

RF_CONVENTION = (
    "RF: receptive field size per spatial dim (Araujo et al., Distill 2019); '(all)' = sees the whole input; "
    "n/a = not covered (transposed conv, upsampling, unequal adaptive bins). Jump: effective stride in input "
    "pixels. RF start: input coordinate where the first output unit's field begins (negative = in the padding); "
    "centre = start + (RF - 1)/2."
)

MEMORY_EXPLANATION = (
    "Memory: activations = output elements x batch, every layer output counted as its own tensor (upper estimate). "
    "Inference = params + peak of activations alive at once (a layer's input and output, plus the block input and "
    "finished branches waiting inside residual/concat blocks). Training = input + params + gradients + optimizer "
    "state (SGD momentum: 1 copy of the params, Adam: 2) + all activations, kept for the backward pass. "
    "torchinfo's 'Forward/backward pass size' is 2 x the outputs of layers with parameters, shown for comparison."
)


def format_size(rf: ReceptiveField) -> str:
    text = format_dims(rf.size)
    return f"{text} (all)" if rf.status == "global" and rf.size else text


def mb(n_bytes: int) -> str:
    """Bytes in torchinfo's units (MB = 10^6 bytes), smaller units for small nets."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:,.2f} {unit}"
    return f"{n_bytes} B"


def memory_footer(estimate: MemoryEstimate) -> str:
    """One line in torchinfo's spirit, in MB (10^6 bytes, as torchinfo)."""
    e = estimate
    return (
        f"Memory ({e.dtype}, batch {e.batch}): input {mb(e.input_bytes)} | params "
        f"{mb(e.param_bytes)} | all activations {mb(e.activation_bytes)} | inference "
        f"{mb(e.inference_bytes)} (peak activations {mb(e.peak_activation_bytes)}) | training "
        f"SGD-momentum {mb(e.training_bytes('sgd_momentum'))}, Adam {mb(e.training_bytes('adam'))} | "
        f"torchinfo's forward/backward pass size {mb(e.torchinfo_forward_backward_bytes)} "
        f"(its estimated total {mb(e.torchinfo_total_bytes)})"
    )
