"""Bar chart of parameters and MACs per layer (matplotlib, an optional extra)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.errors import CnncalcError
from cnncalc.report.columns import human

INSTALL_HINT = 'pip install "cnncalc[plot]"'
ROW_INCHES = 0.2  # per bar: 8 pt names stay legible at ResNet-50's 160 rows
MAX_NAME = 40  # characters of a layer's name on the axis


class MissingExtra(CnncalcError):
    """An optional dependency is not installed (exit code 2)."""

    def render(self) -> str:
        return f"error: {self.message}"  # cnncalc's own words only


def import_pyplot() -> Any:
    """matplotlib.pyplot with a headless backend, or a one-line error naming the extra to install."""
    try:
        import matplotlib
    except ImportError:
        raise MissingExtra(f"this command needs matplotlib; install it with: {INSTALL_HINT}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # A layer name in a script the font lacks (CJK, emoji) is drawn as boxes; one Python warning
    # per glyph, with a source path, is noise on a CLI's stderr.
    warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
    return plt


def axis_text(text: str) -> str:
    """A layer name as matplotlib shows it: printable, `$` not read as mathtext, long names shortened."""
    from cnncalc.report.draw import clip
    from cnncalc.shown import shown

    return clip(shown(text), MAX_NAME).replace("$", r"\$")


def cost_rows(analysis: Analysis, skip_zero_macs: bool = False) -> list[LayerRow]:
    """The rows that get a bar: those with params or MACs (with `skip_zero_macs`, MACs only), in execution order."""
    return [row for row in analysis.leaves if row.macs or (row.params and not skip_zero_macs)]


def plot_costs(
    analysis: Analysis, path: str, log_scale: bool = False, dpi: int = 150, skip_zero_macs: bool = False
) -> None:
    """Write the chart of `cost_figure` to `path` (the format from its suffix)."""
    plt = import_pyplot()
    fig = cost_figure(analysis, log_scale, skip_zero_macs)
    fig.savefig(path, dpi=dpi, format=Path(path).suffix.lstrip(".").lower() or None)
    plt.close(fig)


def tick_text(value: float) -> str:
    """An axis tick in K/M/G without trailing zeros: 10K, 2.5M (a bar's own label keeps three digits)."""
    text = human(value)
    if "." in text:
        number, unit = (text[:-1], text[-1]) if text[-1] in "KMG" else (text, "")
        text = number.rstrip("0").rstrip(".") + unit
    return text


def cost_figure(analysis: Analysis, log_scale: bool = False, skip_zero_macs: bool = False) -> Any:
    """Two panels, params and MACs, one bar per layer, with K/M/G axes and each bar's value beside it."""
    plt = import_pyplot()
    from matplotlib.ticker import FuncFormatter, NullFormatter

    rows = cost_rows(analysis, skip_zero_macs)
    height = max(3.0, ROW_INCHES * len(rows) + 1.6)
    fig, (ax_params, ax_macs) = plt.subplots(1, 2, figsize=(12, height), sharey=True, layout="constrained")
    positions = list(range(len(rows)))
    for ax, values, title, colour in (
        (ax_params, [row.params for row in rows], f"Parameters: {human(analysis.params)}", "#3182bd"),
        (ax_macs, [row.macs for row in rows], f"MACs: {human(analysis.macs)} (FLOPs = 2 x MACs)", "#e6550d"),
    ):
        ax.barh(positions, values, color=colour, height=0.75)
        ax.set_title(title, fontsize=10)
        positive = [value for value in values if value > 0]
        if log_scale and positive:  # room on the right for the largest bar's label, as the linear axis has
            ax.set_xscale("log")
            ax.set_xlim(min(positive) / 2, max(positive) * 8)
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_xlim(0, max(values, default=0) * 1.18 or 1)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: tick_text(v)))  # after the scale, which resets it
        ax.grid(axis="x", alpha=0.3)
        if len(rows) > 40:  # a tall chart: the scale at the top too, where the reader starts
            ax.tick_params(axis="x", labeltop=True)
        for y, value in zip(positions, values):
            if value:
                ax.text(value, y, " " + human(value), va="center", fontsize=6, color="#333")
    ax_params.set_yticks(positions, [axis_text(row.name) for row in rows], fontsize=8 if len(rows) < 60 else 7)
    ax_params.set_ylim(len(rows) - 0.5, -0.5)  # first layer on top, no empty margin
    total = f"{analysis.params:,} params, {analysis.macs:,} MACs"
    fig.suptitle(f"{axis_text(analysis.spec.name)}: cost per layer  ({total})", fontsize=12)
    return fig


def save_costs(analysis: Analysis, path: Path, log_scale: bool = False, skip_zero_macs: bool = False) -> None:
    """Write the chart atomically (a temporary file beside `path`, renamed over it)."""
    from cnncalc.output_file import write_atomically

    write_atomically(path, lambda temp: plot_costs(analysis, temp, log_scale, skip_zero_macs=skip_zero_macs))
