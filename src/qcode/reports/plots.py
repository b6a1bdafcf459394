"""PNG plots of the reports, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Plots are deterministic: fixed size and dpi, and no "Software"/time stamps in the PNG metadata,
so the same database gives the same bytes. Labels are the codebook's Swedish labels.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..writers import atomic_path
from ._common import TOTAL

DPI = 100
FONT = "DejaVu Sans"  # ships with matplotlib and has å ä ö


def heatmap(values: np.ndarray, annotations: Sequence[Sequence[str]], rows: Sequence[str],
            columns: Sequence[str], output: str | Path, *, title: str, colorbar: str,
            vmin: float = 0.0, vmax: float = 1.0, cmap: str = "Blues",
            mask: np.ndarray | None = None, diverging: bool = False) -> Path:
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
    rows, columns = [redactor.redact(str(r)) for r in rows], [redactor.redact(str(c)) for c in columns]
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
    ax.set_xticks(range(len(columns)), list(columns), rotation=40, ha="right",
                  fontsize=9, fontfamily=FONT)
    ax.set_yticks(range(len(rows)), list(rows), fontsize=9, fontfamily=FONT)
    span = vmax - vmin or 1.0
    for i in range(n_rows):
        for j in range(n_cols):
            value = values[i, j]
            strength = (abs(value - (vmin + vmax) / 2) * 2 / span if diverging
                        else (value - vmin) / span)
            dark = (not math.isnan(value) and (mask is None or not mask[i, j])
                    and strength > 0.6)
            ax.text(j, i, annotations[i][j], ha="center", va="center", fontsize=8,
                    fontfamily=FONT, color="white" if dark else "black")
    fig.colorbar(image, ax=ax, label=colorbar, shrink=0.8)
    ax.set_title(title, fontfamily=FONT, fontsize=11)
    fig.tight_layout()
    output = Path(output)
    with atomic_path(output) as tmp:
        drawn = "\n".join([title, colorbar, *rows, *columns, *(a for line in annotations for a in line)])
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None, PNG_LABELS_KEY: drawn},
                    bbox_inches="tight", pad_inches=0.2)
    return output


def _indented(paths: Sequence[str], labels: dict, levels: dict) -> list[str]:
    """Labels with a "· " per level below the top: tick labels are right-aligned, so leading
    spaces would not show."""
    return ["· " * max(int(levels.get(p, 1)) - 1, 0) + str(labels.get(p, p)) for p in paths]


def plot_frequencies(frame: pd.DataFrame, output: str | Path) -> Path:
    """Heatmap of shares (codes × groups, total last) with the document count in each cell."""
    from .render import group_label

    codes = [c for c in frame.index if c != TOTAL]
    keys = list(dict.fromkeys(col[:-1] for col in frame.columns))
    shares = np.array([[frame.loc[c, k + ("share",)] for k in keys] for c in codes], dtype="float64")
    docs = [[str(int(frame.loc[c, k + ("documents",)])) for k in keys] for c in codes]
    sizes = frame.attrs.get("group_sizes", {})
    columns = [f"{group_label(k)} (n={sizes.get(k, 0)})" for k in keys]
    rows = _indented(codes, frame.attrs.get("labels", {}), frame.attrs.get("levels", {}))
    by = " × ".join(frame.attrs.get("by", []))
    return heatmap(shares.reshape(len(codes), len(keys)), docs, rows, columns, output,
                   title=f"Andel av gruppens dokument per kod och {by} (siffra = antal dokument)",
                   colorbar="andel av gruppens dokument")


def plot_cooccurrence(frame: pd.DataFrame, output: str | Path) -> Path:
    """Heatmap of the code × code matrix; the diagonal (code totals) is grey."""
    codes = list(frame.index)
    values = frame.to_numpy(dtype="float64")
    jaccard = frame.attrs.get("measure") == "jaccard"
    n = len(codes)
    mask = np.eye(n, dtype=bool)
    annotations = [[(f"{values[i, j]:.2f}" if jaccard and i != j else f"{int(values[i, j])}")
                    for j in range(n)] for i in range(n)]
    off = values[~mask] if n > 1 else np.array([0.0])
    vmax = 1.0 if jaccard else max(float(off.max()) if off.size else 0.0, 1.0)
    labels = _indented(codes, frame.attrs.get("labels", {}), frame.attrs.get("levels", {}))
    unit = {"segment": "passager", "document": "dokument"}.get(frame.attrs.get("unit"), "enheter")
    return heatmap(values, annotations, labels, labels, output, vmin=0.0, vmax=vmax,
                   cmap="Purples", mask=mask,
                   title=f"Samförekomst av koder ({unit}; diagonal = totalt)",
                   colorbar="Jaccard" if jaccard else f"antal {unit}")


def plot_crosstab(result, output: str | Path) -> Path:  # noqa: ANN001 - CrosstabResult
    """Heatmap of Spearman's rho (survey indicators × themes), n under each value."""
    corr = result.correlations
    themes = list(dict.fromkeys(corr["theme"])) or ["(inga teman)"]
    indicators = list(dict.fromkeys(corr["indicator"])) or ["(inga indikatorer)"]
    rho = np.full((len(indicators), len(themes)), np.nan)
    text = [["–" for _ in themes] for _ in indicators]
    for row in corr.itertuples(index=False):
        i, j = indicators.index(row.indicator), themes.index(row.theme)
        rho[i, j] = row.rho
        text[i][j] = ("–" if pd.isna(row.rho) else f"{row.rho:.2f}") + f" (n={row.n})"
    return heatmap(rho, text, indicators, themes, output, vmin=-1.0, vmax=1.0, cmap="RdBu_r",
                   diverging=True, title="Intervjuer och enkät: Spearmans ρ mellan grupper",
                   colorbar="ρ (rangkorrelation)")
