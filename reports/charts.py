"""The report's charts, drawn with matplotlib to SVG and embedded as `data:` images, so the report opens
offline, in a browser or a mail client, with nothing loaded from the network.

Chinese text: no font ships with genjin. When a CJK font is installed (Debian's fonts-noto-cjk or
fonts-wqy-zenhei, or one of `CJK_FONTS`), glyphs are drawn as SVG paths and the chart looks the same
everywhere. When none is, text stays SVG text naming common CJK fonts, and the reader's own fonts draw it.

Charts take numbers and already-translated labels; they know nothing of KPIs or languages.

A chart with nothing to draw is a small SVG written here, its "no data" text as SVG text, and matplotlib is
imported only when a chart has something to draw (issue #17: an empty night's report draws nothing, and importing
matplotlib is a third of what `genjin run` imports). `font=AUTO` looks the CJK font up then, too.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from reports.cells import safe_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "SimHei", "Heiti SC",
    "Droid Sans Fallback", "AR PL UMing CN",
)
# where Debian puts them, for a font installed after matplotlib cached its font list
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
BLUE, ORANGE, GREY, RED, GREEN = "#1f4e78", "#e07b39", "#9aa5b1", "#c00000", "#2e7d32"
AUTO: Final = "auto"  # as `font`: the installed CJK font (`cjk_font`), looked up when a chart is drawn
PALETTE = ("#1f4e78", "#e07b39", "#2e7d32", "#7b3fa0", "#c9a227", "#3a8fb7", "#9aa5b1", "#b5523b")


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    alt: str  # what the chart says, for a reader whose client shows no images
    svg: str

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


@dataclass(frozen=True)
class Target:
    value: float
    label: str
    higher_is_better: bool = True


@cache
def cjk_font() -> str | None:
    """The first installed CJK font of `CJK_FONTS`, or None."""
    from matplotlib import font_manager

    def installed() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = installed()
    if not names & set(CJK_FONTS):
        for path in CJK_FONT_FILES:
            if Path(path).exists():
                font_manager.fontManager.addfont(path)
        names = installed()
    return next((name for name in CJK_FONTS if name in names), None)


def style(font: str | None) -> dict[str, object]:
    return {
        "svg.fonttype": "path" if font else "none",
        "svg.hashsalt": "genjin",  # the same chart gives the same SVG
        "font.family": [font, "DejaVu Sans"] if font else ["sans-serif"],
        "font.sans-serif": [*CJK_FONTS, "DejaVu Sans"],
        "font.size": 9,
        "text.parse_math": False,  # a `$` in a store or source name is text
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#888888",
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "xtick.color": "#444444",
        "ytick.color": "#444444",
        "legend.frameon": False,
        "legend.fontsize": 8,
    }


@contextmanager
def _quiet() -> Iterator[None]:
    """Without a CJK font matplotlib warns per missing glyph; the reader's fonts draw them: say nothing."""
    log = logging.getLogger("matplotlib.font_manager")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
            yield
    finally:
        log.setLevel(level)


def render(fig: Figure) -> str:
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buf = io.StringIO()
    FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None})
    return buf.getvalue()


def _draw(key: str, title: str, alt: str, width: float, height: float, paint: Callable[[Figure], None],
          font: str | None) -> Chart:
    import matplotlib
    from matplotlib.figure import Figure

    font = cjk_font() if font == AUTO else font
    with matplotlib.rc_context(style(font)), _quiet():
        fig = Figure(figsize=(width, height), layout="constrained")
        paint(fig)
        return Chart(key, title, alt, render(fig))


def blank(key: str, title: str, text: str, width: float, height: float) -> Chart:
    """A chart with nothing to draw: `text` ("no data") in grey at its middle, the size the drawn chart would
    have (inches, as matplotlib's figures; SVG points, as its SVGs), without matplotlib."""
    w, h = width * 72, height * 72
    fonts = ", ".join(f"'{name}'" for name in CJK_FONTS)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:g}pt" height="{h:g}pt" viewBox="0 0 {w:g} {h:g}">'
           f'<text x="{w / 2:g}" y="{h / 2:g}" text-anchor="middle" dominant-baseline="middle" fill="{GREY}" '
           f'font-size="11" font-family="{fonts}, sans-serif">{html.escape(text)}</text></svg>')
    return Chart(key, title, text, svg)


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", color=GREY, transform=ax.transAxes, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])


def _target_line(ax: Axes, target: Target | None, horizontal: bool = True) -> None:
    """A dashed red reference line. A horizontal one is named in the panel's title (a label beside it would
    cover the bars); a vertical one gets its label on top."""
    if target is None:
        return
    if horizontal:
        ax.axhline(target.value, color=RED, linestyle="--", linewidth=1.2, zorder=3)
    else:
        ax.axvline(target.value, color=RED, linestyle="--", linewidth=1.2, zorder=3)
        ax.text(target.value, 1.0, " " + target.label, transform=ax.get_xaxis_transform(), ha="left",
                va="bottom", color=RED, fontsize=7.5, zorder=4)


MAX_TICK = 16  # characters of a name under a bar; the report's tables give it whole


def tick(label: str) -> str:
    """A store's or advisor's name as a chart shows it: safe (reports/cells.py), one line, cut with `…` — a
    40,000-character name would leave the axes no room at all."""
    text = " ".join(str(safe_text(label, limit=None)).split())
    return text if len(text) <= MAX_TICK else text[: MAX_TICK - 1] + "…"


def _hbar(ax: Axes, labels: Sequence[str], values: Sequence[float], texts: Sequence[str], color: str) -> None:
    positions = range(len(labels))
    ax.barh(list(positions), list(values), color=color, height=0.6)
    ax.set_yticks(list(positions), [tick(label) for label in labels])
    ax.invert_yaxis()
    for y, (value, text) in enumerate(zip(values, texts, strict=True)):
        ax.text(value, y, " " + text, va="center", fontsize=8, color="#333333")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


def funnel(stages: Sequence[tuple[str, int]], steps: Sequence[str], title: str, no_data: str,
           font: str | None) -> Chart:
    """stages: (label, count) from the top of the funnel down; steps: the conversion text between them."""
    top = max((n for _, n in stages), default=0)
    if top == 0:
        return blank("funnel", title, no_data, 5.6, 2.4)

    def paint(fig: Figure) -> None:
        ax = fig.subplots()
        for y, (_, n) in enumerate(stages):
            ax.barh(y, n, left=(top - n) / 2, color=PALETTE[y % len(PALETTE)], height=0.62)
            ax.text(top / 2, y, f"{n:,}", ha="center", va="center", fontsize=10, fontweight="bold",
                    color="white" if n > top * 0.15 else "#222222")
        for y, text in enumerate(steps):
            ax.text(top * 1.03, y + 0.5, "↓ " + text, va="center", fontsize=8.5, color="#333333")
        ax.set_yticks(range(len(stages)), [label for label, _ in stages])
        ax.tick_params(axis="y", length=0, labelsize=10)
        ax.set_ylim(len(stages) - 0.5, -0.5)
        ax.set_xlim(0, top * 1.55)
        ax.set_xticks([])
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)

    alt = "; ".join(f"{label} {n}" for label, n in stages) + ("; " + "; ".join(steps) if steps else "")
    return _draw("funnel", title, alt, 5.6, 2.4, paint, font)


def rate_bars(key: str, rows: Sequence[tuple[str, float | None, str]], title: str, no_data: str,
              reference: Target | None, font: str | None) -> Chart:
    """Horizontal bars of a rate (0–1) per row: (label, value or None, text beside the bar)."""
    shown = [(label, value, text) for label, value, text in rows if value is not None]
    if not shown:
        return blank(key, title, no_data, 5.6, 1.8)

    def paint(fig: Figure) -> None:
        from matplotlib.ticker import PercentFormatter

        ax = fig.subplots()
        _hbar(ax, [r[0] for r in shown], [r[1] or 0.0 for r in shown], [r[2] for r in shown], BLUE)
        ax.set_xlim(0, 1.15)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _target_line(ax, reference, horizontal=False)

    height = max(1.8, 0.3 * len(shown) + 0.9)
    alt = "; ".join(f"{label} {text}" for label, _, text in shown) or no_data
    return _draw(key, title, alt, 5.6, height, paint, font)


def count_bars(key: str, rows: Sequence[tuple[str, int]], title: str, no_data: str, font: str | None,
               color: str = ORANGE) -> Chart:
    if not any(n for _, n in rows):
        return blank(key, title, no_data, 5.6, max(1.6, 0.3 * len(rows) + 0.8))

    def paint(fig: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = fig.subplots()
        _hbar(ax, [r[0] for r in rows], [r[1] for r in rows], [f"{r[1]:,}" for r in rows], color)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0, max(n for _, n in rows) * 1.18)

    height = max(1.6, 0.3 * len(rows) + 0.8)
    alt = "; ".join(f"{label} {n}" for label, n in rows) or no_data
    return _draw(key, title, alt, 5.6, height, paint, font)


def histogram(key: str, bins: Sequence[tuple[str, int]], title: str, xlabel: str, ylabel: str,
              median_text: str | None, no_data: str, font: str | None) -> Chart:
    """Counts per labelled bin (already binned, so the bins read as ranges a manager names)."""
    if not any(n for _, n in bins):
        return blank(key, title, no_data, 5.6, 2.6)

    def paint(fig: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = fig.subplots()
        xs = list(range(len(bins)))
        ax.bar(xs, [n for _, n in bins], color=BLUE, width=0.75)
        ax.set_xticks(xs, [label for label, _ in bins])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for x, (_, n) in enumerate(bins):
            if n:
                ax.text(x, n, f"{n}", ha="center", va="bottom", fontsize=8)
        if median_text:
            ax.text(0.99, 0.97, median_text, ha="right", va="top", transform=ax.transAxes, color=RED)

    alt = "; ".join(f"{label}: {n}" for label, n in bins) + (f"; {median_text}" if median_text else "")
    return _draw(key, title, alt, 5.6, 2.6, paint, font)


@dataclass(frozen=True)
class Panel:
    title: str
    labels: Sequence[str]
    values: Sequence[float | None]
    percent: bool
    target: Target | None


def panels(key: str, items: Sequence[Panel], title: str, no_data: str, font: str | None) -> Chart:
    """Small multiples: one bar panel per KPI (a value per store), the policy's target as a red line."""
    if all(v is None for item in items for v in item.values):
        return blank(key, title, no_data, 2.4 * len(items) + 0.4, 2.8)

    def paint(fig: Figure) -> None:
        from matplotlib.ticker import PercentFormatter

        axes = fig.subplots(1, len(items), squeeze=False)[0]
        for ax, item in zip(axes, items, strict=True):
            _panel_title(ax, item)
            pairs = [(label, v) for label, v in zip(item.labels, item.values, strict=True) if v is not None]
            if not pairs:
                _no_data(ax, no_data)
                continue
            xs = list(range(len(pairs)))
            colors = [_meets_color(v, item.target) for _, v in pairs]
            ax.bar(xs, [v for _, v in pairs], color=colors, width=0.6)
            for x, (_, v) in enumerate(pairs):
                ax.text(x, v, _fmt(v, item.percent), ha="center", va="bottom", fontsize=7.5, color="#333333")
            crowded = len(pairs) > 3
            ax.set_xticks(xs, [tick(label) for label, _ in pairs], rotation=35 if crowded else 0,
                          ha="right" if crowded else "center",
                          rotation_mode="anchor" if crowded else "default")
            _target_line(ax, item.target)
            if item.percent:
                ax.set_ylim(0, 1.05)
                ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            else:
                ax.set_ylim(0, 105)

    alt = "; ".join(
        f"{item.title}: " + ", ".join(
            f"{label} {_fmt(v, item.percent)}" for label, v in zip(item.labels, item.values, strict=True)
        )
        for item in items
    )
    return _draw(key, title, alt, 2.4 * len(items) + 0.4, 2.8, paint, font)


def trends(key: str, dates: Sequence[str], series: Sequence[Panel], title: str, no_data: str,
           font: str | None) -> Chart:
    """One small line chart per KPI across nights (`labels` unused; `values` per date, None = missing)."""
    cols = 4
    rows = (len(series) + cols - 1) // cols
    if all(v is None for item in series for v in item.values):
        return blank(key, title, no_data, 9.6, 2.1 * rows + 0.3)

    def paint(fig: Figure) -> None:
        from matplotlib.ticker import FuncFormatter, PercentFormatter

        axes = fig.subplots(rows, cols, squeeze=False).flatten()
        for ax, item in zip(axes, series, strict=False):
            _panel_title(ax, item)
            points = [(i, v) for i, v in enumerate(item.values) if v is not None]
            if not points:
                _no_data(ax, no_data)
                continue
            ax.plot([i for i, _ in points], [v for _, v in points], color=BLUE, marker="o", markersize=3,
                    linewidth=1.5)
            _target_line(ax, item.target)
            ticks = sorted({0, len(dates) - 1})
            ax.set_xticks(ticks, [dates[i][5:] for i in ticks])
            ax.set_xlim(-0.5, max(len(dates) - 0.5, 0.5))
            if item.percent:
                ax.set_ylim(0, 1.05)
                ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            else:
                low = min([v for _, v in points] + ([item.target.value] if item.target else []))
                ax.set_ylim(max(0, low - 10), 101)
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))
        for ax in axes[len(series):]:
            ax.axis("off")

    alt = f"{dates[0]} – {dates[-1]}: " + "; ".join(
        f"{item.title} {_fmt(next((v for v in reversed(item.values) if v is not None), None), item.percent)}"
        for item in series
    ) if dates else no_data
    return _draw(key, title, alt, 9.6, 2.1 * rows + 0.3, paint, font)


def _panel_title(ax: Axes, item: Panel) -> None:
    ax.set_title(item.title)
    if item.target is not None:
        ax.text(1.0, 1.02, f"- - {item.target.label}", transform=ax.transAxes, ha="right", va="bottom",
                color=RED, fontsize=7.5)


def _meets_color(value: float, target: Target | None) -> str:
    if target is None:
        return BLUE
    ok = value >= target.value if target.higher_is_better else value <= target.value
    return GREEN if ok else ORANGE


def _fmt(value: float | None, percent: bool) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if percent else f"{value:.1f}"


def compare_lines(key: str, dates: Sequence[str], series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
                  names: tuple[str, str], title: str, no_data: str, font: str | None) -> Chart:
    """Two lines per panel across nights — (panel title, first values, second values), e.g. the current and the
    proposed policy — the second dashed, so the two stay apart in black and white."""
    cols = min(3, max(len(series), 1))
    rows = (len(series) + cols - 1) // cols

    def paint(fig: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        axes = fig.subplots(rows, cols, squeeze=False).flatten()
        for ax, (panel, first, second) in zip(axes, series, strict=False):
            ax.set_title(panel)
            if not dates:
                _no_data(ax, no_data)
                continue
            xs = list(range(len(dates)))
            ax.plot(xs, list(first), color=BLUE, linewidth=1.6, label=names[0])
            ax.plot(xs, list(second), color=ORANGE, linewidth=1.6, linestyle="--", label=names[1])
            ticks = sorted({0, len(dates) // 2, len(dates) - 1})
            ax.set_xticks(ticks, [dates[i][5:] for i in ticks])
            ax.set_ylim(0, max([*first, *second, 1.0]) * 1.08)  # nothing at all: an axis of 0–1, not 0–0.05
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
            ax.legend(loc="best")
        for ax in axes[len(series):]:
            ax.axis("off")

    alt = "; ".join(
        f"{panel}: {names[0]} {sum(first) / max(len(first), 1):.1f}, {names[1]} {sum(second) / max(len(second), 1):.1f}"
        for panel, first, second in series
    )
    return _draw(key, title, alt, 10.4, 2.5 * rows + 0.3, paint, font)
