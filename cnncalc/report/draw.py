"""A picture of the network as the slides draw it: volumes as boxes, left to right.

A [C, H, W] volume is a prism whose face is H tall and W deep and whose thickness is C; a
vector is a bar. Sizes are log-scaled so AlexNet's 227x227x3 and ResNet's 7x7x2048 both fit.
Residual and concat paths are stacked vertically and merged. The layout is a list of plain
shapes (`Shape*` below), rendered to SVG text by hand, or to PNG/PDF with matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import log2
from xml.sax.saxutils import escape

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.layers import Layer, Structure
from cnncalc.shown import shown

FONT = 11  # px
LINE = 14  # px between text lines
GAP = 26  # px between boxes, room for an arrow
MAX_WIDTH = 1500  # px before a line of boxes wraps
MERGE_SYMBOL = {"residual": "+", "concat": "C"}
COLOURS = {
    "conv": "#9ecae1",
    "conv_transpose": "#c6dbef",
    "linear": "#a1d99b",
    "flatten": "#e5f5e0",
    "input": "#d9d9d9",
    "block": "#dadaeb",
}
POOL_COLOUR = "#fdd0a2"  # every pooling kind
DEFAULT_COLOUR = "#f0f0f0"


@dataclass(frozen=True)
class Prism:
    """A 3-D looking box: front face at (x, y) of size width x height, back face shifted by depth."""

    x: float
    y: float
    width: float
    height: float
    depth: float
    colour: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    bold: bool = False
    anchor: str = "middle"


@dataclass(frozen=True)
class Path:
    """A polyline; `arrow` puts an arrow head at the last point."""

    points: tuple[tuple[float, float], ...]
    arrow: bool = False


@dataclass(frozen=True)
class Node:
    """A merge point: a circle with a symbol (+ for residual, C for concat)."""

    x: float
    y: float
    symbol: str


Shape = Prism | Label | Path | Node


@dataclass
class Block:
    """Laid-out shapes in local coordinates; `mid` is the y of the line arrows run along."""

    width: float
    height: float
    mid: float
    shapes: list[Shape] = field(default_factory=list)
    left: float = 0.0  # where arrows attach: the drawn body's edges, inside the label's width
    right: float | None = None

    @property
    def right_edge(self) -> float:
        return self.width if self.right is None else self.right

    def moved(self, dx: float, dy: float) -> list[Shape]:
        return [_move(s, dx, dy) for s in self.shapes]


@dataclass
class Picture:
    title: str
    width: float
    height: float
    shapes: list[Shape]


def _move(shape: Shape, dx: float, dy: float) -> Shape:
    if isinstance(shape, Path):
        return Path(tuple((x + dx, y + dy) for x, y in shape.points), shape.arrow)
    return type(shape)(**{**shape.__dict__, "x": shape.x + dx, "y": shape.y + dy})  # type: ignore[arg-type]


def size_px(n: int) -> float:
    """Log scale: 1 -> 10 px, 7 -> 46, 56 -> 98, 227 -> 135."""
    return 10 + 16 * log2(n + 0.0001) if n > 1 else 10


def shape_text(shape: tuple[int, ...]) -> str:
    """The slides' H x W x C order: `55x55x96`; a vector is just its length."""
    return "x".join(map(str, (*shape[1:], shape[0]))) if len(shape) > 1 else str(shape[0])


def colour_of(kind: str) -> str:
    return POOL_COLOUR if "pool" in kind else COLOURS.get(kind, DEFAULT_COLOUR)


def volume(name: str, shape: tuple[int, ...], colour: str) -> Block:
    """One volume with its name and shape under it."""
    if len(shape) == 1:  # a vector: a thin bar
        prism = Prism(0, 0, 10, min(0.75 * size_px(shape[0]), 160), 0, colour)
    else:
        spatial = shape[1:]
        # H up, W into the page; a 1-D [C, L] stands up as a slab of height L.
        height = size_px(spatial[-2] if len(spatial) > 1 else spatial[0])
        depth = 0.45 * size_px(spatial[-1] if len(spatial) > 1 else 1)
        prism = Prism(0, depth, 4 + 5 * log2(shape[0] + 1), height, depth, colour)
    body_w, body_h = prism.width + prism.depth, prism.height + prism.depth
    text = [name, shape_text(shape)]
    width = max(body_w, max(len(t) for t in text) * FONT * 0.62)
    dx = (width - body_w) / 2
    shapes: list[Shape] = [_move(prism, dx, 0)]
    shapes += [Label(width / 2, body_h + LINE * (i + 1), t, bold=i == 0) for i, t in enumerate(text)]
    mid = prism.y + prism.height / 2
    return Block(width, body_h + LINE * len(text) + 4, mid, shapes, dx, dx + body_w)


def row_block(row: LayerRow, prefix: str, collapsed: bool = False) -> Block:
    """A row's volume, named relative to the enclosing residual/concat (`conv1`, not `layer1.0.res.conv1`)."""
    colour = COLOURS["block"] if collapsed else colour_of(row.layer.kind)
    name = row.name[len(prefix) + 1 :] if prefix and row.name.startswith(prefix + ".") else row.name
    return volume(name, row.output_shape, colour)


def sequence(blocks: list[Block]) -> Block:
    """Blocks left to right, aligned on their mid lines, joined by arrows."""
    if not blocks:
        return Block(0, 0, 0)
    above = max(b.mid for b in blocks)
    below = max(b.height - b.mid for b in blocks)
    shapes: list[Shape] = []
    x = previous_right = 0.0
    for i, block in enumerate(blocks):
        if i:
            shapes.append(Path(((previous_right, above), (x + block.left, above)), arrow=True))
        shapes += block.moved(x, above - block.mid)
        previous_right = x + block.right_edge
        x += block.width + GAP
    return Block(x - GAP, above + below, above, shapes, blocks[0].left, previous_right)


def parallel(paths: list[Block], symbol: str, title: str) -> Block:
    """Paths stacked top to bottom between a fork and a merge node; the first path stays on the main line."""
    fork_x, start_x = 6.0, 24.0
    end_x = start_x + max(p.width for p in paths) + GAP
    shapes: list[Shape] = [Label(start_x, FONT, title, anchor="start")]
    y = LINE + 4.0
    mids = []
    for path in paths:
        height = max(path.height, 16)
        mid = y + (path.mid if path.height else 8)
        mids.append(mid)
        shapes += path.moved(start_x, mid - path.mid)
        shapes.append(Path(((fork_x, mid), (start_x + path.left, mid))))
        if len(mids) == 1:
            shapes.append(Path(((start_x + path.right_edge, mid), (end_x - 9, mid)), arrow=True))
        else:
            shapes.append(Path(((start_x + path.right_edge, mid), (end_x, mid), (end_x, mids[0] + 9)), arrow=True))
        y += height + 12
    shapes.append(Path(((fork_x, mids[0]), (fork_x, mids[-1]))))
    shapes.append(Node(end_x, mids[0], symbol))
    shapes.append(Path(((0, mids[0]), (fork_x, mids[0]))))
    return Block(end_x + 10, y - 12, mids[0], shapes, 0, end_x + 9)


class _Layout:
    """Turns the layer tree into blocks; `depth` collapses structures nested that deep."""

    def __init__(self, analysis: Analysis, depth: int | None):
        self.rows = {id(row.layer): row for row in analysis.rows}
        self.depth = depth

    def drawn(self, row: LayerRow) -> bool:
        """Layers that change the volume or slide a window over it; activations and norms are left out."""
        window = row.layer.receptive_window(row.input_shape)
        return row.macs > 0 or row.output_shape != row.input_shape or window is not None

    def items(self, layers: list[Layer], prefix: str = "") -> list[Block]:
        """Blocks for a list of layers, sequential structures inlined; names shown relative to `prefix`."""
        found: list[Block] = []
        for layer in layers:
            row = self.rows[id(layer)]
            if isinstance(layer, Structure) and (self.depth is None or row.depth < self.depth):
                if layer.parallel:
                    paths = [sequence(self.items(group, row.name)) for group in layer.children()]
                    found.append(parallel(paths, MERGE_SYMBOL.get(layer.kind, "+"), row.name))
                else:
                    for group in layer.children():
                        found += self.items(group, prefix)
            elif isinstance(layer, Structure):
                found.append(row_block(row, prefix, collapsed=True))
            elif self.drawn(row):
                found.append(row_block(row, prefix))
        return found


def layout(analysis: Analysis, depth: int | None = None, max_width: float = MAX_WIDTH) -> Picture:
    """Lay the network out in lines of at most `max_width` px, with a title."""
    spec = analysis.spec
    items = [volume("input", spec.input_shape, COLOURS["input"]), *_Layout(analysis, depth).items(spec.layers)]
    lines: list[list[Block]] = [[]]
    width = 0.0
    for item in items:
        if lines[-1] and width + GAP + item.width > max_width:
            lines.append([])
            width = 0.0
        width += item.width + (GAP if lines[-1] else 0)
        lines[-1].append(item)
    margin, title_h = 16.0, 30.0
    shapes: list[Shape] = []
    y = margin + title_h
    previous_end: tuple[float, float] | None = None
    for blocks in lines:
        line = sequence(blocks)
        shapes += line.moved(margin, y)
        start, end = (margin + line.left, y + line.mid), (margin + line.right_edge, y + line.mid)
        if previous_end is not None:  # wrap: from the end of the last line down and back to the start
            turn = y - 12
            shapes.append(
                Path(
                    (
                        previous_end,
                        (previous_end[0] + 10, previous_end[1]),
                        (previous_end[0] + 10, turn),
                        (start[0] - 8, turn),
                        (start[0] - 8, start[1]),
                        start,
                    ),
                    arrow=True,
                )
            )
        previous_end = end
        y += line.height + 30
    total_w = max(sum(b.width for b in bl) + GAP * (len(bl) - 1) for bl in lines) + 2 * margin + 12
    title = f"{spec.name}  (input {shape_text(spec.input_shape)})"
    shapes.insert(0, Label(margin, margin + FONT, title, bold=True, anchor="start"))
    return Picture(title, total_w, y - 30 + margin, shapes)


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


def to_svg(picture: Picture) -> str:
    """Plain SVG text: polygons, polylines with arrow markers and text elements."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{picture.width:.0f}" height="{picture.height:.0f}" '
        f'viewBox="0 0 {picture.width:.0f} {picture.height:.0f}" font-family="DejaVu Sans, Arial, sans-serif" '
        f'font-size="{FONT}">',
        f"<title>{escape(shown(picture.title))}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
        f'<rect width="{picture.width:.0f}" height="{picture.height:.0f}" fill="white"/>',
    ]
    for s in picture.shapes:
        if isinstance(s, Prism):
            for points, factor in prism_faces(s):
                pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                out.append(
                    f'<polygon points="{pts}" fill="{shade(s.colour, factor)}" stroke="#333" stroke-width="0.8"/>'
                )
        elif isinstance(s, Label):
            weight = ' font-weight="bold"' if s.bold else ""
            text = escape(shown(s.text))
            out.append(f'<text x="{s.x:.1f}" y="{s.y:.1f}" text-anchor="{s.anchor}"{weight}>{text}</text>')
        elif isinstance(s, Path):
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in s.points)
            marker = ' marker-end="url(#arrow)"' if s.arrow else ""
            out.append(f'<polyline points="{pts}" fill="none" stroke="#555" stroke-width="1.2"{marker}/>')
        elif isinstance(s, Node):
            out.append(f'<circle cx="{s.x:.1f}" cy="{s.y:.1f}" r="9" fill="white" stroke="#333"/>')
            out.append(
                f'<text x="{s.x:.1f}" y="{s.y + 4:.1f}" text-anchor="middle" font-weight="bold">{s.symbol}</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def save_with_matplotlib(picture: Picture, path: str, dpi: int = 150) -> None:
    """PNG/PDF through matplotlib, drawing the same shapes (1 data unit = 1 px at 100 dpi)."""
    from cnncalc.report.plot import import_pyplot

    plt = import_pyplot()
    from matplotlib.patches import Circle, Polygon

    fig = plt.figure(figsize=(picture.width / 100, picture.height / 100))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, picture.width)
    ax.set_ylim(picture.height, 0)
    ax.set_axis_off()
    points_per_px = 72 / 100
    for s in picture.shapes:
        if isinstance(s, Prism):
            for points, factor in prism_faces(s):
                ax.add_patch(Polygon(points, closed=True, facecolor=shade(s.colour, factor), edgecolor="#333", lw=0.6))
        elif isinstance(s, Label):
            align = {"middle": "center", "start": "left"}[s.anchor]
            ax.text(
                s.x,
                s.y,
                shown(s.text).replace("$", r"\$"),
                ha=align,
                va="baseline",
                fontsize=FONT * points_per_px,
                fontweight="bold" if s.bold else "normal",
            )
        elif isinstance(s, Path):
            xs, ys = zip(*s.points)
            if s.arrow:
                ax.plot(xs[:-1], ys[:-1], color="#555", lw=0.9)
                ax.annotate(
                    "",
                    xy=s.points[-1],
                    xytext=s.points[-2],
                    arrowprops={"arrowstyle": "-|>", "color": "#555", "lw": 0.9, "shrinkA": 0, "shrinkB": 0},
                )
            else:
                ax.plot(xs, ys, color="#555", lw=0.9)
        elif isinstance(s, Node):
            ax.add_patch(Circle((s.x, s.y), 9, facecolor="white", edgecolor="#333", lw=0.8))
            ax.text(s.x, s.y, s.symbol, ha="center", va="center", fontsize=FONT * points_per_px, fontweight="bold")
    fig.savefig(path, dpi=dpi, facecolor="white")
    plt.close(fig)
