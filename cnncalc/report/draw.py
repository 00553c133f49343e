"""A picture of the network's graph as the slides draw it: volumes as prisms, left to right.

A [C, H, W] volume is a prism whose face is H tall and W deep and whose thickness is C; a
vector is a bar; sizes are log-scaled. The layout is a layered DAG over `spec.graph`: each
drawn node gets a column (its longest distance from the input), the longest path to an output
is the main chain on the top lane, and side paths (shortcuts, branches, `from:` references,
top-down paths) run in lanes below it; the columns wrap into lines at the picture's width.
An edge that crosses a wrap is cut into a labelled stub and a labelled arrow. The layout is a
list of plain shapes (`Prism`, `Label`, `Path`, `Node`), rendered to SVG by hand or with matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import log2, sqrt
from pathlib import Path as FilePath

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.layers import Layer, Merge, SplitSection
from cnncalc.shown import shown

FONT = 11  # px
SMALL = 9  # px, the kernel/stride line and the legend
LINE = 13  # px between text lines
GAP = 30  # px between columns: room for an arrow and the vertical runs
MARGIN = 16.0
TITLE_H = 26.0
LANE_GAP = 10.0
WIRE_ABOVE, WIRE_BELOW = 13.0, 5.0  # a lane holding only arrows: room for a stub's label
OUTPUT_H = 14.0  # room above a volume for its "output" tag
MAX_WIDTH = 1500  # px, the default picture width
STUB_W = 90.0  # px kept at a line's end for the labels of arrows continued on the next line (less when narrow)
MAX_LABEL = 16  # characters of a box's name
RADIUS = 9.0  # of a merge node
OUTPUT_COLOUR = "#b2182b"
COLOURS = {
    "conv": "#9ecae1",
    "conv_transpose": "#c6dbef",
    "linear": "#a1d99b",
    "flatten": "#e5f5e0",
    "input": "#d9d9d9",
    "block": "#dadaeb",
    "upsample": "#fcbba1",
}
POOL_COLOUR = "#fdd0a2"  # every pooling kind
DEFAULT_COLOUR = "#f0f0f0"
MERGE_NAMES = {"+": "sum (add, residual)", "×": "product (multiply, gate)", "C": "channel concat"}


@dataclass(frozen=True)
class Prism:
    """A 3-D looking box: front face at (x, y) of size width x height, back face shifted by depth."""

    x: float
    y: float
    width: float
    height: float
    depth: float
    colour: str
    tip: str = ""  # tooltip: the full path, kind and shape


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    bold: bool = False
    anchor: str = "middle"  # or "start", "end"
    size: int = FONT
    colour: str = "#000000"


@dataclass(frozen=True)
class Path:
    """A polyline; `arrow` puts an arrow head at the last point; `edge` names the graph edge it draws."""

    points: tuple[tuple[float, float], ...]
    arrow: bool = False
    edge: tuple[str, str] | None = None


@dataclass(frozen=True)
class Node:
    """A merge point: a circle with the merge's symbol (+ sum, × product, C concat)."""

    x: float
    y: float
    symbol: str
    tip: str = ""


Shape = Prism | Label | Path | Node


@dataclass
class Block:
    """Laid-out shapes in local coordinates; `mid` is the y arrows attach at, `left`/`right` their x."""

    width: float
    height: float
    mid: float
    shapes: list[Shape] = field(default_factory=list)
    left: float = 0.0
    right: float = 0.0
    top: float = 0.0  # where the drawn body starts (an output tag goes above it)

    def moved(self, dx: float, dy: float) -> list[Shape]:
        return [_move(s, dx, dy) for s in self.shapes]


@dataclass
class Picture:
    title: str
    width: float
    height: float
    shapes: list[Shape]
    legend: list[Shape] = field(default_factory=list)


def _move(shape: Shape, dx: float, dy: float) -> Shape:
    if isinstance(shape, Path):
        return Path(tuple((x + dx, y + dy) for x, y in shape.points), shape.arrow, shape.edge)
    return type(shape)(**{**shape.__dict__, "x": shape.x + dx, "y": shape.y + dy})  # type: ignore[arg-type]


# --- text ---


def clip(text: str, limit: int = MAX_LABEL) -> str:
    """At most `limit` characters, an ellipsis in the middle: `level1.encode.conv1` -> `level1.…conv1`."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


def short_name(path: str, kind: str = "") -> str:
    """The last part of a dotted path, with its parent when it alone says nothing (`0`, `conv` for a conv)."""
    parts = path.split(".")
    name = parts[-1]
    i = len(parts) - 1
    while i > 0 and (name.split(".")[0].isdigit() or name == kind):
        i -= 1
        name = f"{parts[i]}.{name}"
    return clip(shown(name))


def size_px(n: int) -> float:
    """Log scale: 1 -> 10 px, 7 -> 46, 56 -> 98, 227 -> 135."""
    return 10 + 16 * log2(n + 0.0001) if n > 1 else 10


def shape_text(shape: tuple[int, ...]) -> str:
    """The slides' H x W x C order: `55x55x96`; a vector is just its length."""
    return "x".join(map(str, (*shape[1:], shape[0]))) if len(shape) > 1 else str(shape[0])


def window_text(layer: Layer, input_shape: tuple[int, ...]) -> str:
    """A window's kernel and stride as the slides write them: `3x3 s2`, `1x1`, `7x7 s2 dw`, `x2` (upsample)."""
    from cnncalc.layers.window import SlidingWindow

    if isinstance(layer, SlidingWindow):
        g = layer.geometry(input_shape)
        text = "x".join(map(str, g.kernel))
        if any(s != 1 for s in g.stride):
            text += " s" + ("x".join(map(str, g.stride)) if len(set(g.stride)) > 1 else str(g.stride[0]))
        groups = getattr(layer, "groups", 1)
        if groups > 1:
            text += " dw" if groups == input_shape[0] else f" g{groups}"
        return text
    scale = getattr(layer, "scale_factor", None)
    if isinstance(scale, int | float):
        return f"x{scale:g}"
    return "global" if "global" in layer.kind else ""


def colour_of(kind: str) -> str:
    return POOL_COLOUR if "pool" in kind else COLOURS.get(kind, DEFAULT_COLOUR)


def text_width(text: str, size: int = FONT) -> float:
    return len(text) * size * 0.62


# --- blocks: one per drawn unit ---


def volume(lines: list[str], shape: tuple[int, ...], colour: str, tip: str = "") -> Block:
    """One volume, with its name (bold), its shape and an optional kernel line under it."""
    if len(shape) == 1:  # a vector: a thin bar
        prism = Prism(0, 0, 10, min(0.75 * size_px(shape[0]), 160), 0, colour, tip)
    else:
        spatial = shape[1:]
        # H up, W into the page; a 1-D [C, L] stands up as a slab of height L.
        height = size_px(spatial[-2] if len(spatial) > 1 else spatial[0])
        depth = 0.45 * size_px(spatial[-1] if len(spatial) > 1 else 1)
        prism = Prism(0, depth, 4 + 5 * log2(shape[0] + 1), height, depth, colour, tip)
    body_w, body_h = prism.width + prism.depth, prism.height + prism.depth
    sizes = [FONT, FONT, SMALL]
    width = max(body_w, *(text_width(t, s) for t, s in zip(lines, sizes)))
    dx = (width - body_w) / 2
    shapes: list[Shape] = [_move(prism, dx, 0)]
    for i, (text, size) in enumerate(zip(lines, sizes)):
        if text:
            shapes.append(Label(width / 2, body_h + LINE * (i + 1), text, bold=i == 0, size=size))
    mid = prism.y + prism.height / 2
    return Block(width, body_h + LINE * len(lines) + 4, mid, shapes, dx, dx + prism.width)


def merge_block(symbol: str, lines: list[str], tip: str) -> Block:
    """A merge node: the circle and its name (and its shape when the merge changes it) under it."""
    width = max(2 * RADIUS, *(text_width(t, SMALL) for t in lines))
    above = (LINE - 2) * len(lines)  # the labels go above: arrows rise into the circle from below
    shapes: list[Shape] = [Node(width / 2, above + RADIUS, symbol, tip)]
    shapes += [Label(width / 2, (LINE - 2) * (i + 1) - 3, t, size=SMALL) for i, t in enumerate(lines)]
    return Block(width, above + 2 * RADIUS + 4, above + RADIUS, shapes, width / 2 - RADIUS, width / 2 + RADIUS)


@dataclass
class Unit:
    """One drawn thing: a volume, a merge node or a collapsed block; `inputs` are unit indices."""

    index: int
    name: str
    block: Block
    symbol: str | None = None
    label: str = ""  # what stubs call it: its short name and shape
    inputs: list[int] = field(default_factory=list)
    consumers: list[int] = field(default_factory=list)
    rank: int = 0
    line: int = 0
    lane: int = 0
    outputs: list[str] = field(default_factory=list)
    colour: str = ""
    kind: str = ""
    # Where the unit sits, once placed: the block's origin.
    x: float = 0.0
    y: float = 0.0

    @property
    def cx(self) -> float:
        return self.x + self.block.width / 2

    @property
    def mid(self) -> float:
        return self.y + self.block.mid

    @property
    def left(self) -> float:
        return self.x + self.block.left

    @property
    def right(self) -> float:
        return self.x + self.block.right


def drawn(row: LayerRow) -> bool:
    """Layers that change the volume or slide a window over it; activations and norms are left out."""
    window = row.layer.receptive_window(row.input_shape)
    return row.macs > 0 or row.output_shape != row.input_shape or window is not None


def build_units(analysis: Analysis, depth: int | None) -> tuple[list[Unit], list[int]]:
    """The drawn units in graph order, and for every graph node the unit that shows it."""
    graph = analysis.graph
    shapes = graph.shapes()
    leaf_rows = {row.layer.output_node: row for row in analysis.rows if row.leaf}
    collapsed = {row.name: row for row in analysis.rows if not row.leaf and depth is not None and row.depth == depth}
    units: list[Unit] = []
    of_node: list[int] = []
    of_block: dict[str, int] = {}

    def add(name: str, block: Block, colour: str, kind: str, symbol: str | None = None) -> int:
        units.append(Unit(len(units), name, block, symbol, colour=colour, kind=kind))
        return len(units) - 1

    for node in graph.nodes:
        op = node.op
        owner = _collapsed_owner(node.name, collapsed) if op is not None else None
        if owner is not None:
            if owner.name not in of_block:
                # The whole path, clipped: a collapsed block's context (`layer1.rest`) is what it is drawn for.
                lines = [clip(shown(owner.name)), shape_text(owner.output_shape), clip(shown(owner.kind), 20)]
                tip = f"{shown(owner.name)} ({shown(owner.kind)}) {shape_text(owner.output_shape)}"
                block = volume(lines, owner.output_shape, COLOURS["block"], tip)
                of_block[owner.name] = add(owner.name, block, COLOURS["block"], "block")
            of_node.append(of_block[owner.name])
        elif op is None:
            block = volume(["input", shape_text(shapes[0])], shapes[0], COLOURS["input"], "input")
            of_node.append(add("input", block, COLOURS["input"], "input"))
        elif isinstance(op, Merge):
            shape = shapes[node.index]
            changed = all(shapes[i] != shape for i in node.inputs)
            lines = [short_name(node.name, getattr(op, "kind", ""))] + ([shape_text(shape)] if changed else [])
            tip = f"{shown(node.name)} {shape_text(shape)}"
            of_node.append(add(node.name, merge_block(op.symbol, lines, tip), "", "merge", op.symbol))
        elif isinstance(op, SplitSection) or node.index not in leaf_rows or not drawn(leaf_rows[node.index]):
            of_node.append(of_node[node.inputs[0]])  # shown by the box it reads: same volume
        else:
            row = leaf_rows[node.index]
            layer = row.layer
            colour = colour_of(layer.kind)
            lines = [short_name(node.name, layer.kind), shape_text(row.output_shape)]
            window = window_text(layer, row.input_shape)
            if window:
                lines.append(window)
            tip = f"{shown(node.name)} ({layer.kind}) {shape_text(row.output_shape)}"
            of_node.append(add(node.name, volume(lines, row.output_shape, colour, tip), colour, layer.kind))
        unit = units[of_node[-1]]
        if not unit.label:
            unit.label = f"{short_name(unit.name, unit.kind)} {shape_text(shapes[node.index])}"
        for i in node.inputs:
            source = of_node[i]
            if source != unit.index and source not in unit.inputs:
                unit.inputs.append(source)
    for name, i in graph.outputs:
        units[of_node[i]].outputs.append(clip(shown(name), 24))
    for unit in units:
        for source in unit.inputs:
            units[source].consumers.append(unit.index)
        unit.rank = 1 + max((units[s].rank for s in unit.inputs), default=-1)
    return units, of_node


def _collapsed_owner(name: str, collapsed: dict[str, LayerRow]) -> LayerRow | None:
    """The collapsed structure or block whose dotted path contains `name`, if any."""
    if not collapsed:
        return None
    parts = name.split(".")
    for k in range(1, len(parts) + 1):
        row = collapsed.get(".".join(parts[:k]))
        if row is not None:
            return row
    return None


def main_chain(units: list[Unit], of_node: list[int], outputs: list[int]) -> list[int]:
    """The longest path from the input to an output (the furthest one): the line everything hangs off."""
    ends = [of_node[i] for i in outputs] or [len(units) - 1]
    end = max(ends, key=lambda u: (units[u].rank, -ends.index(u)))
    chain = [end]
    while units[chain[-1]].inputs:
        inputs = units[chain[-1]].inputs
        chain.append(max(inputs, key=lambda u: (units[u].rank, -inputs.index(u))))
    return chain[::-1]


# --- lanes: interval assignment in half-column units (2c = the gap before column c, 2c+1 = column c) ---


@dataclass
class Item:
    """What occupies a lane over [start, end]: a side path's units and its outgoing run, or an arrow's run."""

    start: int
    end: int
    units: list[int] = field(default_factory=list)
    lane: int = 0


@dataclass
class Line:
    columns: list[int]
    items: list[Item] = field(default_factory=list)
    lane_y: list[float] = field(default_factory=list)
    top: float = 0.0
    bottom: float = 0.0


@dataclass
class _Route:
    """How one unit edge is drawn: its run's lane item on the source's line, and on the target's if it wraps."""

    source: int
    target: int
    out_item: Item | None = None  # the run on the source's line (None: along the source's own lane)
    in_item: Item | None = None  # on the target's line, when the edge crosses a wrap
    drop: bool = False  # from the chain straight down into the next column's side path
    via_wrap: bool = False  # from the last box of a line, along the wrap arrow


class _Layout:
    def __init__(self, analysis: Analysis, depth: int | None, max_width: float):
        self.analysis = analysis
        self.units, self.of_node = build_units(analysis, depth)
        chain = main_chain(self.units, self.of_node, [i for _, i in analysis.graph.outputs])
        self.on_chain = set(chain)
        for unit in reversed(self.units):  # a side path with room to spare sits beside where it is used
            if unit.index not in self.on_chain and unit.consumers:
                latest = min(self.units[c].rank for c in unit.consumers) - 1
                if latest - unit.rank >= 2:  # e.g. an FPN lateral: under the add it feeds, not the stage it reads
                    unit.rank = latest
        self.columns: list[list[int]] = [[] for _ in range(max(u.rank for u in self.units) + 1)]
        for unit in self.units:
            self.columns[unit.rank].append(unit.index)
        self.col_width = [max(self.units[u].block.width for u in col) for col in self.columns]
        self.stub_w = min(STUB_W, 0.06 * max_width)
        self.lines = self.wrap(max_width - 2 * MARGIN - 2 * GAP - self.stub_w)
        self.line_of_col = {c: i for i, line in enumerate(self.lines) for c in line.columns}
        for unit in self.units:
            unit.line = self.line_of_col[unit.rank]
        self.path_of: dict[int, Item] = {}
        self.routes: list[_Route] = []
        self.plan()

    def wrap(self, available: float) -> list[Line]:
        """Columns into lines; a line ends, where it can, at a cut no side path or skip crosses."""
        crossing = [0] * (len(self.columns) + 1)  # edges running past the boundary after column c
        for unit in self.units:
            for s in unit.inputs:
                source = self.units[s]
                if source.index not in self.on_chain:
                    for c in range(source.rank, unit.rank):
                        crossing[c] += 1
                elif not (unit.index in self.on_chain and unit.rank == source.rank + 1):
                    # An edge from the chain can follow the wrap arrow when the line ends right after its source.
                    for c in range(source.rank + 1, unit.rank):
                        crossing[c] += 1
        lines: list[Line] = [Line([])]
        widths: list[float] = []  # the current line's width up to each of its columns
        for c, w in enumerate(self.col_width):
            columns = lines[-1].columns
            if columns and widths[-1] + GAP + w > available:
                cut = len(columns)
                for k in range(len(columns), 0, -1):
                    if widths[k - 1] < available / 2:
                        break
                    if crossing[columns[k - 1]] == 0:
                        cut = k
                        break
                lines.append(Line(columns[cut:]))
                del columns[cut:]
                widths = []
                for moved in lines[-1].columns:
                    widths.append((widths[-1] + GAP if widths else 0) + self.col_width[moved])
            widths.append((widths[-1] + GAP if widths else 0) + w)
            lines[-1].columns.append(c)
        return lines

    def half(self, unit: Unit, arriving: bool) -> int:
        """Where a run ends at `unit`: a merge's own column (the arrow rises into the circle), else the gap before."""
        return 2 * unit.rank + (1 if arriving and unit.symbol else 0)

    def plan(self) -> None:
        """Side paths and arrow runs as lane items, line by line."""
        units = self.units
        for unit in units:  # side paths: consecutive off-chain units, one reading the other alone
            if unit.index in self.on_chain:
                continue
            prev = units[unit.inputs[0]] if len(unit.inputs) == 1 else None
            if (
                prev is not None
                and prev.index in self.path_of
                and prev.consumers == [unit.index]
                and prev.line == unit.line
                and self.path_of[prev.index].units[-1] == prev.index
            ):
                item = self.path_of[prev.index]
                item.units.append(unit.index)
            else:
                item = Item(2 * unit.rank, 2 * unit.rank + 1, [unit.index])
                self.lines[unit.line].items.append(item)
            self.path_of[unit.index] = item
        for target in units:
            for s in target.inputs:
                self.route(units[s], target)
        for line in self.lines:
            self.assign_lanes(line)

    def route(self, source: Unit, target: Unit) -> None:
        route = _Route(source.index, target.index)
        self.routes.append(route)
        on_chain = source.index in self.on_chain
        if on_chain and target.index in self.on_chain and target.rank == source.rank + 1:
            return  # the chain's next step: straight, or the wrap arrow
        same_line = source.line == target.line
        source_line = self.lines[source.line]
        end = self.half(target, True) if same_line else 2 * source_line.columns[-1] + 2
        if on_chain and target.line == source.line + 1 and source.rank == source_line.columns[-1]:
            route.via_wrap = True  # a fork at the line's end: its arrows follow the chain's wrap arrow
            target_line = self.lines[target.line]
            if target.rank != target_line.columns[0] or target.symbol:
                route.in_item = Item(2 * target_line.columns[0], self.half(target, True))
                target_line.items.append(route.in_item)
            return
        if on_chain and same_line and target.rank == source.rank + 1:
            route.drop = True  # into a side path starting in the next column: down the gap, no run
        elif on_chain and same_line and not target.symbol and self.path_of[target.index].units[0] == target.index:
            # A reference to an earlier box: the run flows straight into the side path it starts, on its lane.
            route.out_item = self.path_of[target.index]
            route.out_item.start = min(route.out_item.start, 2 * source.rank + 2)
        elif on_chain:
            route.out_item = Item(2 * source.rank + 2, end)
            source_line.items.append(route.out_item)
        elif target.index not in self.path_of[source.index].units:
            path = self.path_of[source.index]
            path.end = max(path.end, end)
        if not same_line:
            target_line = self.lines[target.line]
            route.in_item = Item(2 * target_line.columns[0], self.half(target, True))
            target_line.items.append(route.in_item)

    @staticmethod
    def assign_lanes(line: Line) -> None:
        """Greedy interval colouring, shortest first: nested runs nest (the inner nearest the chain), no crossings."""
        taken: list[list[tuple[int, int]]] = []
        for item in sorted(line.items, key=lambda it: (it.end - it.start, it.start)):
            for lane, spans in enumerate(taken):
                if all(item.end < a or item.start > b for a, b in spans):
                    spans.append((item.start, item.end))
                    item.lane = lane + 1
                    break
            else:
                taken.append([(item.start, item.end)])
                item.lane = len(taken)

    # --- placing ---

    def place(self) -> tuple[list[Shape], float, float]:
        shapes: list[Shape] = []
        y = MARGIN + TITLE_H
        width = 0.0
        self.col_x: dict[int, float] = {}
        for line in self.lines:
            x = MARGIN + GAP
            for c in line.columns:
                self.col_x[c] = x
                x += self.col_width[c] + GAP
            width = max(width, x + self.stub_w + MARGIN)
            lanes = 1 + max((it.lane for it in line.items), default=0)
            above, below = [0.0] * lanes, [0.0] * lanes
            for item in line.items:
                holds_units = bool(item.units)
                above[item.lane] = max(above[item.lane], WIRE_ABOVE)
                below[item.lane] = max(below[item.lane], WIRE_BELOW)
                if holds_units:
                    for u in item.units:
                        self.units[u].lane = item.lane
            for c in line.columns:
                for u in self.columns[c]:
                    unit = self.units[u]
                    if u in self.on_chain:
                        unit.lane = 0
                    tag = OUTPUT_H if unit.outputs else 0.0
                    above[unit.lane] = max(above[unit.lane], unit.block.mid + tag)
                    below[unit.lane] = max(below[unit.lane], unit.block.height - unit.block.mid)
            line.top = y
            line.lane_y = []
            for lane in range(lanes):
                y += above[lane]
                line.lane_y.append(y)
                y += below[lane] + LANE_GAP
            line.bottom = y
            y += 18
            for c in line.columns:
                for u in self.columns[c]:
                    unit = self.units[u]
                    unit.x = self.col_x[c] + (self.col_width[c] - unit.block.width) / 2
                    unit.y = line.lane_y[unit.lane] - unit.block.mid
                    shapes += unit.block.moved(unit.x, unit.y)
                    if unit.outputs:
                        shown = short_name(unit.name, unit.kind)
                        text = " ".join(["output", ", ".join(n for n in unit.outputs if n != shown)]).strip()
                        shapes.append(
                            Label(unit.cx, unit.y + unit.block.top - 4, text, True, size=SMALL, colour=OUTPUT_COLOUR)
                        )
        return shapes, width, y - 18 + MARGIN

    def hx(self, line: Line, half: int) -> float:
        """The x of a half-column position on `line` (past its last column: the stubs' end)."""
        c = half // 2
        if half % 2:
            return self.col_x[c] + self.col_width[c] / 2
        if c > line.columns[-1]:
            last = line.columns[-1]
            return self.col_x[last] + self.col_width[last] + GAP / 2 + self.stub_w
        return self.col_x[c] - GAP / 2

    def arrows(self) -> list[Shape]:
        shapes: list[Shape] = []
        entries: dict[int, int] = {}  # how many arrows already rise into a merge node
        for route in self.routes:
            source, target = self.units[route.source], self.units[route.target]
            edge = (shown(source.name), shown(target.name))
            src_line, dst_line = self.lines[source.line], self.lines[target.line]
            chain_step = source.index in self.on_chain and target.index in self.on_chain
            if chain_step and source.line != target.line and target.rank == source.rank + 1:
                shapes.append(Path(tuple(self.wrap_points(source, target, target.mid)), True, edge))
                continue
            if route.via_wrap:  # from the line's last box: along the wrap arrow, then off it
                track = dst_line.lane_y[route.in_item.lane] if route.in_item is not None else target.mid
                start = list(self.wrap_points(source, target, track))[:-1]
                shapes.append(self.arrive(start, track, target, edge, entries))
                continue
            # The part on the source's line.
            if route.out_item is not None:
                track = src_line.lane_y[route.out_item.lane]
                depart = self.col_x[source.rank] + self.col_width[source.rank] + GAP / 2 + 3
                start = [(source.right, source.mid), (depart, source.mid), (depart, track)]
            else:
                track = source.mid
                start = [(source.right, source.mid)]
            if source.line == target.line:
                shapes.append(self.arrive(start, track, target, edge, entries, route.drop))
                continue
            end_x = self.hx(src_line, 2 * src_line.columns[-1] + 2)
            shapes.append(Path((*start, (end_x, track))))
            shapes.append(Label(end_x, track - 3, f"to {target.label}", anchor="end", size=SMALL))
            assert route.in_item is not None
            track = dst_line.lane_y[route.in_item.lane]
            begin_x = self.col_x[dst_line.columns[0]] - GAP + 2
            shapes.append(Label(begin_x, track - 3, f"from {source.label}", anchor="start", size=SMALL))
            shapes.append(self.arrive([(begin_x, track)], track, target, edge, entries))
        return shapes

    def arrive(
        self,
        start: list[tuple[float, float]],
        track: float,
        target: Unit,
        edge: tuple[str, str],
        entries: dict[int, int],
        drop: bool = False,
    ) -> Path:
        """The rest of an arrow from a run at height `track`: up into a merge's circle, or into a box's left side."""
        line = self.lines[target.line]
        if abs(track - target.mid) < 0.5:
            points = [*start, (target.left, target.mid)]
        elif target.symbol and not drop:
            k = entries.get(target.index, 0)
            entries[target.index] = k + 1
            dx = (0, -4.5, 4.5, -7, 7)[k % 5]
            cx = target.x + target.block.width / 2 + dx
            dy = sqrt(RADIUS**2 - dx**2)
            edge_y = target.mid + dy if track > target.mid else target.mid - dy
            points = [*start, (cx, track), (cx, edge_y)]
        else:
            gap = self.hx(line, 2 * target.rank) - 3
            points = [*start, (gap, track), (gap, target.mid), (target.left, target.mid)]
        return Path(_simplified(points), arrow=True, edge=edge)

    def wrap_points(self, source: Unit, target: Unit, y: float) -> list[tuple[float, float]]:
        """The chain going on at the next line: right, down below the line, back left, down to `y`, right."""
        line = self.lines[source.line]
        turn = self.lines[target.line].top - 9
        right = self.hx(line, 2 * line.columns[-1] + 2) + 6
        left = self.col_x[self.lines[target.line].columns[0]] - GAP / 2 - 4
        points = [(source.right, source.mid), (right, source.mid), (right, turn), (left, turn), (left, y)]
        return [*_simplified(points), (target.left, y)]


def _simplified(points: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Without repeated points, so that arrow heads point the way the last segment goes."""
    out: list[tuple[float, float]] = []
    for p in points:
        if not out or abs(p[0] - out[-1][0]) > 0.01 or abs(p[1] - out[-1][1]) > 0.01:
            out.append(p)
    return tuple(out)


def legend(units: list[Unit], connectors: bool, y: float, max_width: float) -> tuple[list[Shape], float, float]:
    """Colour swatches for the kinds drawn, the merge symbols used, the output tag and the stubs."""
    entries: list[tuple[str, str, str]] = []  # (kind of mark, colour or symbol, text)
    seen: set[str] = set()
    for unit in units:
        if unit.symbol:
            key = "merge" + unit.symbol
            if key not in seen:
                seen.add(key)
                entries.append(("node", unit.symbol, MERGE_NAMES.get(unit.symbol, "merge")))
        else:
            key = "pool" if "pool" in unit.kind else unit.kind
            if key not in seen:
                seen.add(key)
                entries.append(("swatch", unit.colour, {"block": "block (--depth)", "pool": "pooling"}.get(key, key)))
    entries.append(("output", OUTPUT_COLOUR, "a network output"))
    if connectors:
        entries.append(("text", "", "to X / from X: an arrow continued on another line"))
    shapes: list[Shape] = [Label(MARGIN, y + FONT, "Legend", bold=True, anchor="start", size=SMALL)]
    x, y = MARGIN + 48, y + 4
    right = x
    for mark, value, text in entries:
        width = 22 + text_width(text, SMALL) + 18
        if mark == "output":
            width = text_width("output", SMALL) + 8 + text_width(text, SMALL) + 18
        if x + width > max_width - MARGIN and x > MARGIN + 48:
            x, y = MARGIN + 48, y + 20
        if mark == "swatch":
            shapes.append(Prism(x, y, 14, 10, 0, value))
            shapes.append(Label(x + 20, y + 9, text, anchor="start", size=SMALL))
        elif mark == "node":
            shapes.append(Node(x + 7, y + 5, value))
            shapes.append(Label(x + 20, y + 9, text, anchor="start", size=SMALL))
        elif mark == "output":
            shapes.append(Label(x, y + 9, "output", bold=True, anchor="start", size=SMALL, colour=OUTPUT_COLOUR))
            shapes.append(Label(x + text_width("output", SMALL) + 8, y + 9, text, anchor="start", size=SMALL))
        else:
            shapes.append(Label(x, y + 9, text, anchor="start", size=SMALL))
        right = max(right, x + width)
        x += width
    return shapes, y + 20, right


def layout(analysis: Analysis, depth: int | None = None, max_width: float = MAX_WIDTH, exact: bool = False) -> Picture:
    """Lay the graph out in lines that fit `max_width` px, with a title and a legend; the picture is as wide as
    that needs, or (`exact`, a width the user asked for) `max_width` wide."""
    spec = analysis.spec
    plan = _Layout(analysis, depth, max_width)
    shapes, width, height = plan.place()
    arrows = plan.arrows()
    connectors = any(isinstance(s, Label) and s.text.startswith("from ") for s in arrows)
    legend_shapes, height, legend_right = legend(plan.units, connectors, height, max_width)
    title = f"{shown(spec.name)}  (input {shape_text(spec.input_shape)})"
    if len(analysis.outputs) > 1:
        title += "  outputs: " + ", ".join(f"{shown(n)} {shape_text(s)}" for n, s in analysis.outputs)
    title = clip(title, int((max_width - 2 * MARGIN) / (FONT * 0.62)))
    width = max_width if exact else min(max(width, MARGIN + text_width(title) + MARGIN, legend_right), max_width)
    title_label = Label(MARGIN, MARGIN + FONT, title, bold=True, anchor="start")
    return Picture(title, width, height + MARGIN, [title_label, *arrows, *shapes], legend_shapes)


# --- rendering ---


def prism_faces(p: Prism) -> list[tuple[list[tuple[float, float]], float]]:
    """Front, top and side faces as polygons with a shade factor (1 = the face colour)."""
    x, y, w, h, d = p.x, p.y, p.width, p.height, p.depth
    front = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    if not d:
        return [(front, 1.0)]
    top = [(x, y), (x + d, y - d), (x + w + d, y - d), (x + w, y)]
    side = [(x + w, y), (x + w + d, y - d), (x + w + d, y + h - d), (x + w, y + h)]
    return [(front, 1.0), (top, 1.12), (side, 0.82)]


def shade(colour: str, factor: float) -> str:
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{min(255, round(c * factor)):02x}" for c in channels)


def _svg_shape(s: Shape) -> list[str]:
    from xml.sax.saxutils import escape as esc

    out = []
    if isinstance(s, Prism):
        for i, (points, factor) in enumerate(prism_faces(s)):
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            tip = f"<title>{esc(s.tip)}</title>" if s.tip and i == 0 else ""
            out.append(
                f'<polygon points="{pts}" fill="{shade(s.colour, factor)}" stroke="#333" stroke-width="0.8">'
                f"{tip}</polygon>"
            )
    elif isinstance(s, Label):
        attrs = ' font-weight="bold"' if s.bold else ""
        attrs += f' font-size="{s.size}"' if s.size != FONT else ""
        attrs += f' fill="{s.colour}"' if s.colour != "#000000" else ""
        out.append(f'<text x="{s.x:.1f}" y="{s.y:.1f}" text-anchor="{s.anchor}"{attrs}>{esc(s.text)}</text>')
    elif isinstance(s, Path):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in s.points)
        if s.edge is not None:
            out.append(
                f'<polyline class="edge" points="{pts}" fill="none" stroke="#555" stroke-width="1.2" '
                f'marker-end="url(#arrow)"><title>{esc(s.edge[0])} → {esc(s.edge[1])}</title></polyline>'
            )
        else:
            marker = ' marker-end="url(#arrow)"' if s.arrow else ""
            out.append(f'<polyline points="{pts}" fill="none" stroke="#555" stroke-width="1.2"{marker}/>')
    elif isinstance(s, Node):
        tip = f"<title>{esc(s.tip)}</title>" if s.tip else ""
        out.append(
            f'<g class="merge"><circle cx="{s.x:.1f}" cy="{s.y:.1f}" r="{RADIUS:g}" fill="white" stroke="#333"/>'
            f'<text x="{s.x:.1f}" y="{s.y + 4:.1f}" text-anchor="middle" font-weight="bold">{esc(s.symbol)}</text>'
            f"{tip}</g>"
        )
    return out


def to_svg(picture: Picture) -> str:
    """Plain SVG text: polygons, polylines with arrow markers (one per graph edge), text, and the legend."""
    from xml.sax.saxutils import escape

    w, h = f"{picture.width:.0f}", f"{picture.height:.0f}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="{FONT}">',
        f"<title>{escape(shown(picture.title))}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
        f'<rect width="{w}" height="{h}" fill="white"/>',
    ]
    for s in picture.shapes:
        out += _svg_shape(s)
    out.append('<g id="legend">')
    for s in picture.legend:
        out += _svg_shape(s)
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def save_with_matplotlib(picture: Picture, path: str, dpi: int = 100) -> None:
    """PNG/PDF through matplotlib, drawing the same shapes (1 data unit = 1 px at 100 dpi, so a PNG is as many
    pixels wide as the SVG)."""
    from cnncalc.report.plot import import_pyplot

    plt = import_pyplot()
    from matplotlib.patches import Circle, Polygon

    fig = plt.figure(figsize=(picture.width / 100, picture.height / 100))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, picture.width)
    ax.set_ylim(picture.height, 0)
    ax.set_axis_off()
    points_per_px = 72 / 100
    for s in [*picture.shapes, *picture.legend]:
        if isinstance(s, Prism):
            for points, factor in prism_faces(s):
                ax.add_patch(Polygon(points, closed=True, facecolor=shade(s.colour, factor), edgecolor="#333", lw=0.6))
        elif isinstance(s, Label):
            align = {"middle": "center", "start": "left", "end": "right"}[s.anchor]
            ax.text(
                s.x,
                s.y,
                s.text.replace("$", r"\$"),  # not a mathtext formula
                ha=align,
                va="baseline",
                fontsize=s.size * points_per_px,
                fontweight="bold" if s.bold else "normal",
                color=s.colour,
            )
        elif isinstance(s, Path):
            xs, ys = zip(*s.points)
            # Under the boxes, as in the SVG: an arrow starts at a prism's front face, behind its side.
            if s.arrow:
                ax.plot(xs[:-1], ys[:-1], color="#555", lw=0.9, zorder=0.5)
                ax.annotate(
                    "",
                    xy=s.points[-1],
                    xytext=s.points[-2],
                    arrowprops={"arrowstyle": "-|>", "color": "#555", "lw": 0.9, "shrinkA": 0, "shrinkB": 0},
                    zorder=0.5,
                )
            else:
                ax.plot(xs, ys, color="#555", lw=0.9, zorder=0.5)
        elif isinstance(s, Node):
            ax.add_patch(Circle((s.x, s.y), RADIUS, facecolor="white", edgecolor="#333", lw=0.8))
            ax.text(s.x, s.y, s.symbol, ha="center", va="center", fontsize=FONT * points_per_px, fontweight="bold")
    fig.savefig(path, dpi=dpi, facecolor="white", format=FilePath(path).suffix.lstrip(".").lower() or None)
    plt.close(fig)


def save(picture: Picture, path: FilePath) -> None:
    """Write the picture atomically (cnncalc.output_file): SVG by hand, PNG/PDF with matplotlib."""
    from cnncalc.output_file import write_atomically

    if path.suffix.lower() == ".svg":
        write_atomically(path, to_svg(picture))
    else:
        write_atomically(path, lambda temp: save_with_matplotlib(picture, temp))
