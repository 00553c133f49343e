"""What `cnncalc table` prints: the figures its columns need (receptive fields, memory, backward MACs, only when
shown), the rows collapsed or sorted, then every spec's table in the chosen format.

Start-up matters here: each format imports what it needs when it runs (rich for the table, json for JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from cnncalc.engine.memory import MemoryEstimate
    from cnncalc.engine.propagate import Analysis
    from cnncalc.engine.receptive_field import ReceptiveFields
    from cnncalc.report.columns import Layout


@dataclass(frozen=True)
class TableOptions:
    """The table's options, as `cnncalc table` takes them (`columns` already checked by parse_columns)."""

    columns: list[str]
    layout: Layout = "chw"
    explain: bool = False
    sort: str | None = None  # a figure: macs, params, flops, activations
    depth: int | None = None
    dtype: str = "float32"
    batch: int = 1
    memory: bool = False  # the memory footer
    wide: bool = False  # never shorten names to the terminal's width
    units: Literal["exact", "human"] = "exact"


@dataclass
class View:
    """One spec's rows as shown (collapsed or sorted), with the receptive fields and memory when computed."""

    analysis: Analysis
    fields: ReceptiveFields | None = None
    estimate: MemoryEstimate | None = None


def parse_columns(text: str | None, default: tuple[str, ...] | None = None) -> list[str]:
    """`--columns name,output,params` as a list; an unknown column is an error naming the closest."""
    from cnncalc.errors import SpecError
    from cnncalc.report.columns import COLUMNS, DEFAULT_COLUMNS
    from cnncalc.spec.messages import did_you_mean

    if not text:
        return list(DEFAULT_COLUMNS if default is None else default)
    chosen = [c.strip() for c in text.split(",") if c.strip()]
    if not chosen:
        raise SpecError(f"`--columns {text}` names no column.", hint=f"Columns: {', '.join(COLUMNS)}.")
    for key in chosen:
        if key not in COLUMNS:
            guess = did_you_mean(key, COLUMNS)
            raise SpecError(
                f"unknown column `{key}`.",
                hint=f"Did you mean `{guess}`?" if guess else f"Columns: {', '.join(COLUMNS)}.",
            )
    return chosen


def _shows_memory(options: TableOptions) -> bool:
    from cnncalc.report.columns import MEMORY_COLUMNS

    return any(key in MEMORY_COLUMNS for key in options.columns)


def views(analyses: list[Analysis], options: TableOptions) -> list[View]:
    """Each analysis with what its columns show computed (only then: start-up time), collapsed and sorted."""
    from cnncalc.report.columns import BACKWARD_COLUMNS, RF_COLUMNS

    show_rf = any(key in RF_COLUMNS for key in options.columns)
    show_memory = options.memory or options.sort == "activations" or _shows_memory(options)
    found = []
    for analysis in analyses:
        if any(key in BACKWARD_COLUMNS for key in options.columns):
            from cnncalc.engine import backward_cost

            backward_cost.annotate(analysis)
        view = View(analysis)
        if show_rf:
            from cnncalc.engine import receptive_field

            view.fields = receptive_field.annotate(analysis)
        if show_memory:
            from cnncalc.engine import memory

            view.estimate = memory.annotate(analysis, options.dtype, options.batch)
        if options.depth is not None or options.sort is not None:
            from cnncalc.report import row_views

            if options.depth is not None:
                view.analysis = row_views.collapse_below(view.analysis, options.depth)
            if options.sort is not None:
                view.analysis = row_views.sort_leaves(view.analysis, options.sort)
        found.append(view)
    return found


def render_text(analyses: list[Analysis], format: str, options: TableOptions) -> str:
    """The whole output for `json`, `markdown` or `csv`, as written to stdout."""
    if format == "json":
        from cnncalc.report.json_report import render_json, render_json_list

        if len(analyses) == 1:
            return render_json(analyses[0], options.dtype, options.batch) + "\n"
        return render_json_list(analyses, options.dtype, options.batch) + "\n"
    from cnncalc.report.columns import display_units

    shown = views(analyses, options)
    with display_units(options.units):  # counts and bytes in the rendered table (CSV and JSON stay exact)
        if format == "markdown":
            from cnncalc.report.text_formats import render_markdown

            titled = len(shown) > 1
            return "\n".join(render_markdown(v.analysis, options.columns, options.layout, titled) for v in shown)
        if format == "csv":
            from cnncalc.report.text_formats import render_csv

            return render_csv([v.analysis for v in shown], options.columns, options.layout)
    raise ValueError(f"no text format {format!r}")


def print_tables(analyses: list[Analysis], options: TableOptions) -> None:
    """Each spec's table to stdout (fitted to a terminal's width unless `wide`), its warnings to stderr and its
    memory footer; the notes (FLOPs, memory, receptive fields) once, after the last table."""
    from rich.text import Text

    from cnncalc.report.columns import display_units
    from cnncalc.report.console import console as make_console
    from cnncalc.report.table import render_table
    from cnncalc.report.warning_text import warning_line, warning_lines

    footer = options.memory or _shows_memory(options)
    console = make_console()
    errors = make_console(stderr=True)  # warnings to stderr: stdout holds the tables only
    fit = None if options.wide or not console.is_terminal else console.width  # piped output keeps full names
    notes: dict[str, None] = {}  # the notes explaining what is shown, each once, in order
    shown_views = views(analyses, options)
    with display_units(options.units):
        for number, view in enumerate(shown_views):
            if number:
                console.print()
            last = number == len(shown_views) - 1  # the FLOPs note follows the last table's summary line only
            table = render_table(view.analysis, options.columns, options.layout, options.explain, fit, False, last)
            console.print(table, crop=False)  # the layers' warnings (with_warnings=False) go to stderr, below
            for line in warning_lines(view.analysis):
                errors.print(Text(line, style="yellow"), crop=False)
            if footer and view.estimate is not None:
                from cnncalc.report.notes import MEMORY_EXPLANATION, memory_footer

                console.print(Text(memory_footer(view.estimate)))
                notes[MEMORY_EXPLANATION] = None
            if view.fields is not None:
                from cnncalc.report.notes import RF_CONVENTION

                notes[RF_CONVENTION] = None
                for warning, where in zip(view.fields.warnings, view.fields.sources):
                    errors.print(Text(warning_line(warning, where), style="yellow"), crop=False)
        for note in notes:
            console.print(Text(note, style="dim"))
