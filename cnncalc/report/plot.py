"""Bar chart of parameters and MACs per layer (matplotlib, an optional extra)."""

from __future__ import annotations

import warnings
from typing import Any

from cnncalc.engine.propagate import Analysis
from cnncalc.errors import CnncalcError

INSTALL_HINT = 'pip install "cnncalc[plot]"'


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


def _label(text: str) -> str:
    """Spec text for matplotlib: control characters escaped (cnncalc.shown), `$` not read as mathtext."""
    from cnncalc.shown import shown

    return shown(text).replace("$", r"\$")


def plot_costs(analysis: Analysis, path: str, log_scale: bool = False, dpi: int = 150) -> None:
    """Two panels, params and MACs, one bar per layer that has either, in execution order."""
    plt = import_pyplot()
    rows = [row for row in analysis.leaves if row.params or row.macs]
    names = [_label(row.name) for row in rows]
    height = max(3.0, 0.22 * len(rows) + 1.5)
    fig, (ax_params, ax_macs) = plt.subplots(1, 2, figsize=(12, height), sharey=True)
    positions = range(len(rows))
    for ax, values, title, colour, total in (
        (ax_params, [row.params for row in rows], "Parameters", "#3182bd", analysis.params),
        (ax_macs, [row.macs for row in rows], "MACs (FLOPs = 2 x MACs)", "#e6550d", analysis.macs),
    ):
        ax.barh(positions, values, color=colour)
        ax.set_title(f"{title}: total {total:,}", fontsize=10)
        if log_scale:
            ax.set_xscale("log")
        ax.grid(axis="x", alpha=0.3)
    ax_params.set_yticks(list(positions), names, fontsize=8 if len(rows) < 40 else 6)
    ax_params.set_ylim(len(rows) - 0.5, -0.5)  # first layer on top, no empty margin
    fig.suptitle(_label(f"{analysis.spec.name}: cost per layer"), fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
