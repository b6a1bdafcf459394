"""Reports for the write-up: DataFrames in, DataFrames out, and writers beside them.

* :func:`frequencies` — respondents per code and group (``--by`` up to two keys);
* :func:`cooccurrence` — code × code matrix per segment or document;
* :func:`quotes` — the respondents' own words per code, attributed by role only, and
  :func:`quote_matrix` — the best quote per code and group;
* :func:`crosstab` — interview theme shares beside survey indicators, with rank correlations;
* :func:`search` — keyword in context, lemma-aware with the codebook's matcher.

Each takes an open :class:`~qcode.store.Store`; ``render_*`` write md/csv/xlsx/html (docx for
quotes) and ``plot_*`` write PNG heatmaps. Same database, same bytes. Their words come from one
message catalogue per language and their group names from display labels (a
:class:`Presentation`, see :mod:`qcode.reports.i18n`).
"""

from .cooccurrence import cooccurrence
from .crosstab import (
    CrosstabResult,
    Indicator,
    Question,
    benjamini_hochberg,
    crosstab,
    read_questions,
    read_survey,
    survey_by_group,
)
from .frequencies import frequencies
from .i18n import MESSAGES, Presentation
from .plots import plot_cooccurrence, plot_crosstab, plot_frequencies
from .quotes import quote_matrix, quotes, trim_quote
from .render import (
    cooccurrence_table,
    crosstab_tables,
    frequencies_table,
    quote_matrix_table,
    render_cooccurrence,
    render_crosstab,
    render_frequencies,
    render_quote_matrix,
    render_quotes,
    render_search,
    search_table,
)
from .search import code_hits, search

__all__ = [
    "CrosstabResult",
    "Indicator",
    "MESSAGES",
    "Presentation",
    "Question",
    "benjamini_hochberg",
    "cooccurrence",
    "cooccurrence_table",
    "crosstab",
    "crosstab_tables",
    "frequencies",
    "frequencies_table",
    "plot_cooccurrence",
    "plot_crosstab",
    "plot_frequencies",
    "quotes",
    "read_questions",
    "read_survey",
    "render_cooccurrence",
    "render_crosstab",
    "render_frequencies",
    "render_quotes",
    "render_search",
    "search",
    "search_table",
    "code_hits",
    "quote_matrix",
    "quote_matrix_table",
    "render_quote_matrix",
    "survey_by_group",
    "trim_quote",
]
