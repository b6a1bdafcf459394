"""The words of the reports: one message catalogue per output language, and display labels.

Every heading, column label, note and plot title that qcode writes into md, html, docx, xlsx
and png comes from :data:`MESSAGES`, so a report is in one language only. The language is
``lang:`` in ``qcode.yaml`` (or ``--lang``), else the codebook's ``language``, else Swedish.

Display labels map metadata values to what a reader should see (``aklagare`` →
``Åklagarmyndigheten``): ``labels:`` in ``qcode.yaml`` or a ``groups.yaml`` beside the
codebook. Reports for people use them; CSV/JSONL exports keep the ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import CSV_DIALECTS, DEFAULT_LANG, LANGS, check_lang, read_labels
from ..errors import ConfigError

GROUPS_FILE = "groups.yaml"

#: the catalogue: message id -> text per language; ``{name}`` fields are filled by format().
MESSAGES: dict[str, dict[str, str]] = {
    "sv": {
        # shared
        "code": "Kod",
        "any_code": "Någon kod",
        "total": "Totalt",
        "missing": "(saknas)",
        "documents": "dokument",
        "share": "andel",
        "segments": "passager",
        "source": "Underlag: {source}.",
        "source.all": "alla kodningar",
        "source.rule": "regelkodningar",
        "source.companion": "kodningar av den medföljande modellen",
        "source.model": "modellkodningar",
        "source.human": "manuella kodningar",
        "key.group": "grupp",
        "key.main_group": "huvudgrupp",
        "key.study": "studie",
        "key.document": "dokument",
        "key.speaker": "talare",
        "key.title": "titel",
        "key.kind": "dokumenttyp",
        "sheet.share": "Andel",
        "sheet.documents": "Dokument",
        "sheet.segments": "Passager",
        "subcode_note": "Underkoder (↳) räknas också till sin överordnade kod.",
        # frequencies
        "freq.title": "Teman per {by}",
        "freq.intro": (
            "Antal dokument (svarande) som berör varje kod, per {by}. Varje cell: "
            "dokument · andel av gruppens dokument · kodade passager. n är antalet "
            "dokument i gruppen."
        ),
        "freq.plot_title": "Andel av gruppens dokument per kod och {by} (siffra = antal dokument)",
        "freq.plot_bar": "andel av gruppens dokument",
        # co-occurrence
        "cooc.title.segment": "Koder som förekommer tillsammans, per passage",
        "cooc.title.document": "Koder som förekommer tillsammans, per dokument",
        "cooc.intro.count.segment": (
            "Utanför diagonalen: antal passager kodade med båda "
            "koderna. Diagonalen: antal passager med koden."
        ),
        "cooc.intro.count.document": (
            "Utanför diagonalen: antal dokument kodade med båda "
            "koderna. Diagonalen: antal dokument med koden."
        ),
        "cooc.intro.jaccard.segment": (
            "Utanför diagonalen: Jaccards index, passager med båda "
            "koderna delat med passager med någon av dem. Diagonalen: "
            "antal passager med koden."
        ),
        "cooc.intro.jaccard.document": (
            "Utanför diagonalen: Jaccards index, dokument med båda "
            "koderna delat med dokument med någon av dem. Diagonalen: "
            "antal dokument med koden."
        ),
        "cooc.plot_title.segment": "Koder som förekommer tillsammans (passager; diagonal = totalt)",
        "cooc.plot_title.document": "Koder som förekommer tillsammans (dokument; diagonal = totalt)",
        "cooc.plot_bar.segment": "antal passager",
        "cooc.plot_bar.document": "antal dokument",
        "cooc.plot_bar.jaccard": "Jaccards index",
        # quotes
        "quotes.title": "Citat",
        "quotes.none": "Inga citat.",
        "matrix.title": "Citat per kod och {by}",
        "matrix.sheet": "Citatmatris",
        "matrix.intro": (
            "Det mest representativa citatet per kod och {by}, med svarandens roll. "
            "Tom cell: inget kodat citat."
        ),
        # crosstab
        "cross.title": "Intervjuer och enkät per {by}",
        "cross.intro": (
            "En rad per {by}: antal intervjuer, andelen av dem som berör varje tema "
            "och enkätens indikatorer. Därefter Spearmans rangkorrelation mellan "
            "varje temas andel och varje indikator över grupperna som har båda; den "
            "redovisas bara när minst {min_groups} grupper har båda värdena."
        ),
        "cross.tests": (
            "{tests} test har gjorts; p-värdena är justerade för multipla test med "
            "BH-metoden (kontroll av andelen falska upptäckter): p just."
        ),
        "cross.corr_title": "Rangkorrelationer (Spearman)",
        "cross.sheet_groups": "Grupper",
        "cross.sheet_correlations": "Rangkorrelationer",
        "cross.interviews": "Intervjuer",
        "cross.respondents": "Svarande",
        "cross.theme": "Tema",
        "cross.theme_col": "{theme} (andel intervjuer)",
        "cross.indicator": "Indikator",
        "cross.n": "Grupper (n)",
        "cross.rho": "ρ",
        "cross.p": "p",
        "cross.p_adjusted": "p just.",
        "cross.note": "Anmärkning",
        "cross.too_few": "för få grupper (n < {min_groups})",
        "cross.constant": "samma värde i alla grupper",
        "cross.share_of": "{question}: andel {answers}",
        "cross.mean_of": "{question}: medelvärde ({low}–{high})",
        "cross.or": " eller ",
        "cross.only_interviews": (
            "{count} grupp(er) finns bara i {what} och har tomma enkätceller: {groups}."
        ),
        "cross.only_survey": (
            "{count} grupp(er) finns bara i enkäten och har tomma celler för {what}: {groups}."
        ),
        "cross.what.interview": "intervjuerna",
        "cross.what.survey": "enkätsvaren",
        "cross.what.interview+survey": "intervjuerna och enkätsvaren",
        "cross.survey_answers": "Enkätsvar",
        "cross.survey_theme_col": "{theme} (andel enkätsvar)",
        "cross.survey_note": (
            "Projektets egna enkätsvar (fritext ur en enkättabell) räknas för "
            "sig, skilda från intervjuerna: antal enkätsvar och andelen av dem "
            "som berör varje tema."
        ),
        "freq.kinds_note": (
            "Intervjuer och enkätsvar räknas var för sig, med egna grupper och "
            "eget n: ett enradigt svar delas aldrig med samma n som en intervju."
        ),
        "kind.interview": "intervjuer",
        "kind.survey": "enkätsvar",
        "cross.plot_title": "Intervjuer och enkät: Spearmans ρ mellan grupper (tomt: färre än {min_groups} grupper)",
        "cross.plot_bar": "ρ (rangkorrelation)",
        "cross.no_themes": "(inga teman)",
        "cross.no_indicators": "(inga indikatorer)",
        # search
        "search.title": "Sökträffar: {terms}",
        "search.intro": "{hits} träffar i {documents} dokument.",
        "search.left": "Före",
        "search.match": "Träff",
        "search.right": "Efter",
        "search.document": "Dokument",
        "search.role": "Roll",
        "search.sheet": "Sökträffar",
        "respondent": "svarande",
        "interviewer": "intervjuaren",
    },
    "en": {
        "code": "Code",
        "any_code": "Any code",
        "total": "Total",
        "missing": "(missing)",
        "documents": "documents",
        "share": "share",
        "segments": "segments",
        "source": "Source: {source}.",
        "source.all": "all codings",
        "source.rule": "rule codings",
        "source.companion": "companion model codings",
        "source.model": "model codings",
        "source.human": "human codings",
        "key.group": "group",
        "key.main_group": "main group",
        "key.study": "study",
        "key.document": "document",
        "key.speaker": "speaker",
        "key.title": "title",
        "key.kind": "document kind",
        "sheet.share": "Share",
        "sheet.documents": "Documents",
        "sheet.segments": "Segments",
        "subcode_note": "Subcodes (↳) also count for their parent code.",
        "freq.title": "Theme frequencies by {by}",
        "freq.intro": (
            "Documents (respondents) touching each code, per {by}. Each cell: "
            "documents · share of the group's documents · segments coded. n is the "
            "number of documents in the group."
        ),
        "freq.plot_title": "Share of the group's documents per code and {by} (number = documents)",
        "freq.plot_bar": "share of the group's documents",
        "cooc.title.segment": "Co-occurrence of codes by segment",
        "cooc.title.document": "Co-occurrence of codes by document",
        "cooc.intro.count.segment": (
            "Off the diagonal: the number of segments coded with both "
            "codes. Diagonal: the segments coded with the code."
        ),
        "cooc.intro.count.document": (
            "Off the diagonal: the number of documents coded with "
            "both codes. Diagonal: the documents coded with the code."
        ),
        "cooc.intro.jaccard.segment": (
            "Off the diagonal: Jaccard index, segments with both "
            "codes over segments with either. Diagonal: the segments "
            "coded with the code."
        ),
        "cooc.intro.jaccard.document": (
            "Off the diagonal: Jaccard index, documents with both "
            "codes over documents with either. Diagonal: the "
            "documents coded with the code."
        ),
        "cooc.plot_title.segment": "Co-occurrence of codes (segments; diagonal = total)",
        "cooc.plot_title.document": "Co-occurrence of codes (documents; diagonal = total)",
        "cooc.plot_bar.segment": "segments",
        "cooc.plot_bar.document": "documents",
        "cooc.plot_bar.jaccard": "Jaccard index",
        "quotes.title": "Quotes",
        "quotes.none": "No quotes.",
        "matrix.title": "Quotes by code and {by}",
        "matrix.sheet": "Quote matrix",
        "matrix.intro": (
            "The most representative quote per code and {by}, with the "
            "respondent's role. Empty cell: no coded quote."
        ),
        "cross.title": "Interviews and survey by {by}",
        "cross.intro": (
            "One row per {by}: interviews, the share of them touching each theme "
            "and the survey's indicators. Below, Spearman's rank correlation between "
            "each theme's share and each indicator across the groups that have both; "
            "it is reported only where at least {min_groups} groups have both values."
        ),
        "cross.tests": (
            "{tests} tests were run; p-values are adjusted for multiple testing "
            "with the BH method (false discovery rate): p adj."
        ),
        "cross.corr_title": "Rank correlations (Spearman)",
        "cross.sheet_groups": "Groups",
        "cross.sheet_correlations": "Rank correlations",
        "cross.interviews": "Interviews",
        "cross.respondents": "Respondents",
        "cross.theme": "Theme",
        "cross.theme_col": "{theme} (share of interviews)",
        "cross.indicator": "Indicator",
        "cross.n": "Groups (n)",
        "cross.rho": "ρ",
        "cross.p": "p",
        "cross.p_adjusted": "p adj.",
        "cross.note": "Note",
        "cross.too_few": "too few groups (n < {min_groups})",
        "cross.constant": "same value in every group",
        "cross.share_of": "{question}: share {answers}",
        "cross.mean_of": "{question}: mean score ({low}–{high})",
        "cross.or": " or ",
        "cross.only_interviews": (
            "{count} group(s) only in the {what}, kept with empty survey cells: {groups}."
        ),
        "cross.only_survey": (
            "{count} group(s) only in the survey, kept with empty cells for the {what}: {groups}."
        ),
        "cross.what.interview": "interviews",
        "cross.what.survey": "survey answers",
        "cross.what.interview+survey": "interviews and survey answers",
        "cross.survey_answers": "Survey answers",
        "cross.survey_theme_col": "{theme} (share of survey answers)",
        "cross.survey_note": (
            "The project's own survey answers (free text from a survey "
            "table) are counted apart from the interviews: survey answers, and "
            "the share of them touching each theme."
        ),
        "freq.kinds_note": (
            "Interviews and survey answers are counted apart, each kind with its "
            "own groups and n: a one-line answer is never divided by the same n "
            "as an interview."
        ),
        "kind.interview": "interviews",
        "kind.survey": "survey answers",
        "cross.plot_title": "Interviews and survey: Spearman's ρ across groups (blank: fewer than {min_groups} groups)",
        "cross.plot_bar": "ρ (rank correlation)",
        "cross.no_themes": "(no themes)",
        "cross.no_indicators": "(no indicators)",
        "search.title": "Search hits: {terms}",
        "search.intro": "{hits} hits in {documents} documents.",
        "search.left": "Left",
        "search.match": "Match",
        "search.right": "Right",
        "search.document": "Document",
        "search.role": "Role",
        "search.sheet": "Search hits",
        "respondent": "respondent",
        "interviewer": "interviewer",
    },
}

#: the marker before a subcode's label: visible in rendered Markdown, HTML, Excel and plots,
#: where leading spaces are dropped.
SUBCODE_MARK = "↳ "
_INDENT = "\u2003"  # an em space per level below the second, after the marker is not enough


def subcode_label(label: str, level: int) -> str:
    """``label`` marked by its depth: level 1 as is, level 2 ``↳ label``, deeper indented."""
    level = int(level or 1)
    if level <= 1:
        return str(label)
    return _INDENT * (level - 2) + SUBCODE_MARK + str(label)


def lang_of_codebook(language: str | None) -> str:
    """The output language for a codebook's ``language`` (``sv``, ``sv-SE``, ``en-GB``…)."""
    base = (language or DEFAULT_LANG).split("-")[0].split("_")[0].lower()
    return base if base in LANGS else DEFAULT_LANG


@dataclass(frozen=True)
class Presentation:
    """How a report is shown to people: language, display labels, orientation, CSV dialect.

    >>> Presentation("en").text("quotes.title")
    'Quotes'
    >>> Presentation(labels={"group": {"aklagare": "Åklagarmyndigheten"}}).label("group", "aklagare")
    'Åklagarmyndigheten'
    """

    lang: str = DEFAULT_LANG
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    transpose: bool | None = None
    csv_dialect: str = "rfc4180"

    def __post_init__(self) -> None:
        check_lang(self.lang)
        if self.csv_dialect not in CSV_DIALECTS:
            raise ConfigError(
                f"csv_dialect: {self.csv_dialect!r} is not one of {', '.join(CSV_DIALECTS)}"
            )

    def text(self, key: str, **fields: Any) -> str:
        """The catalogue text ``key`` in this language, with ``fields`` filled in."""
        return MESSAGES[self.lang][key].format(**fields)

    def key_name(self, key: str) -> str:
        """A metadata key as a word of the sentence: ``main_group`` → ``huvudgrupp``."""
        return MESSAGES[self.lang].get(f"key.{key}", key)

    def by_text(self, keys: Any) -> str:
        return " × ".join(self.key_name(k) for k in keys)

    def label(self, key: str | None, value: Any) -> str:
        """The display label of a metadata ``value`` of ``key``: the key's own labels first,
        then labels given for any key; the value itself when none is given."""
        if value is None:
            return ""
        text = str(value)
        if text == "total":
            return self.text("total")
        if text == "(missing)":
            return self.text("missing")
        if key == "kind" and f"kind.{text}" in MESSAGES[self.lang]:
            return self.text(f"kind.{text}")
        if key is not None and text in self.labels.get(key, {}):
            return self.labels[key][text]
        return self.labels.get("*", {}).get(text, text)

    def source_text(self, source: str | None) -> str:
        return self.text("source", source=self.text(f"source.{source or 'all'}"))

    @property
    def excel(self) -> bool:
        return self.csv_dialect == "excel-sv"


def groups_file_labels(codebook: str | Path | None) -> dict[str, dict[str, str]]:
    """The labels in ``groups.yaml`` beside the codebook, if there is one."""
    if codebook is None:
        return {}
    path = Path(codebook).parent / GROUPS_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as err:
        raise ConfigError(
            f"cannot read display labels: {str(err).splitlines()[0]}", path=str(path)
        ) from None
    if isinstance(data, dict) and set(data) == {"labels"}:
        data = data["labels"]
    return read_labels(data, str(path))


def merge_labels(*layers: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for layer in layers:
        for key, values in layer.items():
            out.setdefault(key, {}).update(values)
    return out


def codebook_language(codebook: str | Path | None) -> str | None:
    """The ``language:`` of a codebook file, read without validating the whole codebook."""
    if codebook is None or not Path(codebook).is_file():
        return None
    try:
        with open(codebook, encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return None
    match = re.search(r"^language:\s*['\"]?([A-Za-z_-]+)", head, re.MULTILINE)
    return match.group(1) if match else None


def presentation_for(
    config: Any = None,
    *,
    lang: str | None = None,
    transpose: bool | None = None,
    excel: bool | None = None,
) -> Presentation:
    """The project's :class:`Presentation`: ``lang`` (else ``lang:`` in qcode.yaml, else the
    codebook's ``language``), labels from ``groups.yaml`` beside the codebook overlaid by
    ``labels:``, and ``excel`` (else ``csv_dialect:``) for CSV files."""
    codebook = getattr(config, "codebook", None)
    chosen = check_lang(
        lang or getattr(config, "lang", None) or lang_of_codebook(codebook_language(codebook))
    )
    labels = merge_labels(groups_file_labels(codebook), getattr(config, "labels", None) or {})
    dialect = "excel-sv" if excel else getattr(config, "csv_dialect", None) or "rfc4180"
    return Presentation(chosen, labels, transpose, dialect)
