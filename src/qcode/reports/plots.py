"""PNG plots of the reports, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Plots are deterministic: fixed size and dpi, and no "Software"/time stamps in the PNG metadata,
so the same database gives the same bytes. Titles come from the message catalogue
(:mod:`qcode.reports.i18n`), labels from the codebook and the display labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..writers import atomic_path
from ._common import TOTAL
from .i18n import Presentation, subcode_label
from .render import _decimal

if TYPE_CHECKING:
    from .crosstab import CrosstabResult

DPI = 100
FONT = "DejaVu Sans"  # ships with matplotlib and has å ä ö


def heatmap(
    values: np.ndarray,
    annotations: Sequence[Sequence[str]],
    rows: Sequence[str],
    columns: Sequence[str],
    output: str | Path,
    *,
    title: str,
    colorbar: str,
    vmin: float = 0.0,
    vmax: float = 1.0,
    cmap: str = "Blues",
    mask: np.ndarray | None = None,
    diverging: bool = False,
) -> Path:
    """Write a heatmap PNG with a text in every cell; ``mask`` cells are drawn grey.
    ``diverging`` colour maps are dark at both ends, so the text turns white at both.

    Every label passes the privacy detector before it is drawn, and the labels drawn are
    recorded in the PNG's ``qcode:labels`` text chunk, so ``check-privacy`` can read the plot.
    """
    # matplotlib is imported here, not at the top: only --plot needs it, and importing it
    # costs every report command about half a second (benchmarks/bench_startup.py)
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..privacy import PNG_LABELS_KEY, Redactor

    redactor = Redactor()
    rows, columns = (
        [redactor.redact(str(r)) for r in rows],
        [redactor.redact(str(c)) for c in columns],
    )
    title, colorbar = redactor.redact(title), redactor.redact(colorbar)
    annotations = [[redactor.redact(str(a)) for a in line] for line in annotations]
    values = np.asarray(values, dtype="float64")
    n_rows, n_cols = values.shape if values.size else (len(rows), len(columns))
    width = min(28.0, 3.5 + 0.9 * max(n_cols, 1) + 0.07 * max((len(r) for r in rows), default=0))
    height = min(20.0, 2.2 + 0.42 * max(n_rows, 1))
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    shown = np.ma.masked_array(values, mask=mask if mask is not None else np.isnan(values))
    colours = matplotlib.colormaps[cmap].with_extremes(bad="#dddddd")
    image = ax.imshow(shown, cmap=colours, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(
        range(len(columns)), list(columns), rotation=40, ha="right", fontsize=9, fontfamily=FONT
    )
    ax.set_yticks(range(len(rows)), list(rows), fontsize=9, fontfamily=FONT)
    span = vmax - vmin or 1.0
    for i in range(n_rows):
        for j in range(n_cols):
            value = values[i, j]
            strength = (
                abs(value - (vmin + vmax) / 2) * 2 / span if diverging else (value - vmin) / span
            )
            dark = not math.isnan(value) and (mask is None or not mask[i, j]) and strength > 0.6
            ax.text(
                j,
                i,
                annotations[i][j],
                ha="center",
                va="center",
                fontsize=8,
                fontfamily=FONT,
                color="white" if dark else "black",
            )
    fig.colorbar(image, ax=ax, label=colorbar, shrink=0.8)
    ax.set_title(title, fontfamily=FONT, fontsize=11)
    fig.tight_layout()
    output = Path(output)
    with atomic_path(output) as tmp:
        drawn = "\n".join(
            [title, colorbar, *rows, *columns, *(a for line in annotations for a in line)]
        )
        fig.savefig(
            tmp,
            format="png",
            dpi=DPI,
            metadata={"Software": None, PNG_LABELS_KEY: drawn},
            bbox_inches="tight",
            pad_inches=0.2,
        )
    return output


def _indented(paths: Sequence[str], labels: dict[str, str], levels: dict[str, int]) -> list[str]:
    """Labels with the subcode marker: tick labels are right-aligned, so leading spaces
    would not show."""
    return [subcode_label(labels.get(p, p), levels.get(p, 1)) for p in paths]


def plot_frequencies(
    frame: pd.DataFrame, output: str | Path, *, style: Presentation | None = None
) -> Path:
    """Heatmap of shares (codes × groups, total last; groups as rows when the table is
    transposed) with the document count in each cell."""
    from .render import display_order, frequencies_transposed, group_label

    style = style or Presentation()
    codes = [c for c in frame.index if c != TOTAL]
    keys = display_order(
        list(dict.fromkeys(col[:-1] for col in frame.columns)), frame.attrs.get("by", []), style
    )
    shares = np.array(
        [[frame.loc[c, k + ("share",)] for k in keys] for c in codes], dtype="float64"
    )
    shares = shares.reshape(len(codes), len(keys))
    docs = [[str(int(frame.loc[c, k + ("documents",)])) for k in keys] for c in codes]
    sizes = frame.attrs.get("group_sizes", {})
    by = frame.attrs.get("by", [])
    groups = [f"{group_label(k, by, style)} (n={sizes.get(k, 0)})" for k in keys]
    codes_shown = _indented(codes, frame.attrs.get("labels", {}), frame.attrs.get("levels", {}))
    title = style.text("freq.plot_title", by=style.by_text(by))
    bar = style.text("freq.plot_bar")
    if frequencies_transposed(frame, style):
        return heatmap(
            shares.T,
            [list(r) for r in zip(*docs)] if docs else [],
            groups,
            codes_shown,
            output,
            title=title,
            colorbar=bar,
        )
    return heatmap(shares, docs, codes_shown, groups, output, title=title, colorbar=bar)


def plot_cooccurrence(
    frame: pd.DataFrame, output: str | Path, *, style: Presentation | None = None
) -> Path:
    """Heatmap of the code × code matrix; the diagonal (code totals) is grey."""
    style = style or Presentation()
    codes = list(frame.index)
    values = frame.to_numpy(dtype="float64")
    jaccard = frame.attrs.get("measure") == "jaccard"
    n = len(codes)
    mask = np.eye(n, dtype=bool)
    annotations = [
        [
            (
                _decimal(f"{values[i, j]:.2f}", style)
                if jaccard and i != j
                else f"{int(values[i, j])}"
            )
            for j in range(n)
        ]
        for i in range(n)
    ]
    off = values[~mask] if n > 1 else np.array([0.0])
    vmax = 1.0 if jaccard else max(float(off.max()) if off.size else 0.0, 1.0)
    labels = _indented(codes, frame.attrs.get("labels", {}), frame.attrs.get("levels", {}))
    unit = frame.attrs.get("unit", "segment")
    return heatmap(
        values,
        annotations,
        labels,
        labels,
        output,
        vmin=0.0,
        vmax=vmax,
        cmap="Purples",
        mask=mask,
        title=style.text(f"cooc.plot_title.{unit}"),
        colorbar=style.text("cooc.plot_bar.jaccard" if jaccard else f"cooc.plot_bar.{unit}"),
    )


def plot_crosstab(
    result: CrosstabResult, output: str | Path, *, style: Presentation | None = None
) -> Path:
    """Heatmap of Spearman's rho (survey indicators × themes), n under each value; cells with
    too few groups for a correlation stay blank and grey."""
    from .crosstab import MIN_GROUPS
    from .render import _theme_label, indicator_label

    style = style or Presentation()
    corr = result.correlations
    themes = list(dict.fromkeys(corr["theme"]))
    indicators = list(dict.fromkeys(corr["indicator"]))
    rho = np.full((max(len(indicators), 1), max(len(themes), 1)), np.nan)
    text = [["" for _ in range(rho.shape[1])] for _ in range(rho.shape[0])]
    for row in corr.itertuples(index=False):
        i, j = indicators.index(row.indicator), themes.index(row.theme)
        if row.n >= MIN_GROUPS and not pd.isna(row.rho):
            rho[i, j] = row.rho
            text[i][j] = _decimal(f"{row.rho:.2f}", style) + f" (n={row.n})"
    rows = [indicator_label(result, i, style) for i in indicators] or [
        style.text("cross.no_indicators")
    ]
    columns = [_theme_label(result, t) for t in themes] or [style.text("cross.no_themes")]
    return heatmap(
        rho,
        text,
        rows,
        columns,
        output,
        vmin=-1.0,
        vmax=1.0,
        cmap="RdBu_r",
        diverging=True,
        title=style.text("cross.plot_title", min_groups=MIN_GROUPS),
        colorbar=style.text("cross.plot_bar"),
    )
