"""The companion model beside a codebook: how it votes with the rules, and that it is current."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.codebook import load_codebook
from qcode.errors import ModelError
from qcode.model import CompanionModel, companion_path, load_companion
from qcode.models import Coding, Segment

REPO = Path(__file__).resolve().parents[1]


@dataclass
class FixedModel:
    """Stands in for a TrainedModel: fixed probabilities per segment text."""

    table: dict[str, dict[str, float]]
    codebook_sha256: str = "x"
    data_sha256: str = "d"

    @property
    def codes(self) -> list[str]:
        return ["beredskap", "samverkan", "kunskap"]

    def predict_proba(self, texts):
        return pd.DataFrame([self.table[t] for t in texts], index=range(len(texts)))


def segment(index: int, text: str) -> Segment:
    return Segment("d1", index, index * 100, index * 100 + len(text), "IP", False, text)


def rule(seg: Segment, code: str) -> Coding:
    return Coding("d1", seg.index, seg.start, seg.end, code, "rule", 0.5)


def test_rules_are_confirmed_pruned_or_kept_as_best_and_the_model_adds_what_it_is_sure_of():
    a, b = segment(0, "a"), segment(1, "b")
    model = FixedModel(
        {
            "a": {"beredskap": 0.50, "samverkan": 0.20, "kunskap": 0.90},
            "b": {"beredskap": 0.12, "samverkan": 0.05, "kunskap": 0.10},
        }
    )
    companion = CompanionModel(model, confirm=0.35, add=0.6, keep_best=0.1)
    out = companion.combine(
        [a, b],
        [
            rule(a, "beredskap/saknas"),
            rule(a, "samverkan"),
            rule(b, "beredskap"),
            rule(b, "samverkan"),
        ],
    )
    got = sorted((c.segment_index, c.code_path, c.source) for c in out)
    assert got == [
        (0, "beredskap/saknas", "rule"),  # confirmed: 0.50 >= 0.35
        (0, "kunskap", "companion"),  # the model alone is sure: 0.90 >= 0.6
        (1, "beredskap", "rule"),  # below confirm, but the segment's best rule theme
    ]  # samverkan in a (0.20) and b (0.05) pruned


def test_without_keep_best_a_weak_best_theme_is_pruned_too():
    b = segment(1, "b")
    model = FixedModel({"b": {"beredskap": 0.12, "samverkan": 0.05, "kunskap": 0.1}})
    assert CompanionModel(model, confirm=0.35, add=0.6).combine([b], [rule(b, "beredskap")]) == []


def test_the_shipped_companion_is_current_for_the_shipped_codebook():
    codebook = load_codebook(REPO / "codebooks" / "kronoberg.yaml")
    companion = load_companion(codebook)
    assert companion is not None, "codebooks/kronoberg.model is missing"
    assert set(companion.model.codes) == {c.path for c in codebook.codes}
    assert 0 <= companion.confirm < companion.add <= 1


def test_a_codebook_edit_does_not_stop_tag_it_warns_once_and_codes_with_rules(
    tmp_path, monkeypatch
):
    shutil.copyfile(REPO / "codebooks" / "kronoberg.yaml", tmp_path / "k.yaml")
    shutil.copyfile(companion_path(REPO / "codebooks" / "kronoberg.yaml"), tmp_path / "k.model")
    with open(tmp_path / "k.yaml", "a", encoding="utf-8") as handle:
        handle.write("# edited\n")
    with pytest.raises(ModelError, match="retrain it"):
        load_companion(load_codebook(tmp_path / "k.yaml"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("IP: Vi har ingen handlingsplan.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("IP: Vi samarbetar med polisen.\n", encoding="utf-8")
    out = CliRunner().invoke(
        cli, ["tag", "a.md", "b.md", "--codebook", "k.yaml", "--db", "p.db", "-j", "1"]
    )
    assert out.exit_code == 0, out.output
    warnings = [
        line
        for line in out.stderr.splitlines()
        if line.startswith("warning:") and "companion" in line
    ]
    assert warnings == [
        "warning: k.model: the companion model was trained for another version of the codebook; "
        "coding with rules only (`qcode companion train` retrains it on this project's human "
        "codings; `--no-companion` silences this)"
    ]
    from qcode.store import Store

    with Store(tmp_path / "p.db") as store:
        assert set(store.codings_frame()["source"]) == {"rule"}
    rules_only = CliRunner().invoke(
        cli, ["tag", "a.md", "--codebook", "k.yaml", "--db", "p.db", "--no-companion"]
    )
    assert rules_only.exit_code == 0 and "companion" not in rules_only.stderr


def test_the_companion_file_holds_arrays_only_and_a_pickle_in_its_place_never_runs(tmp_path):
    import pickle
    import zipfile

    shipped = companion_path(REPO / "codebooks" / "kronoberg.yaml")
    with zipfile.ZipFile(shipped) as archive:  # an .npz: arrays and a JSON header
        assert "header.npy" in archive.namelist() and "weights.npy" in archive.namelist()
    shutil.copyfile(REPO / "codebooks" / "kronoberg.yaml", tmp_path / "k.yaml")
    witness = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (witness,))

    (tmp_path / "k.model").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelError, match="not a qcode companion model") as raised:
        load_companion(load_codebook(tmp_path / "k.yaml"))
    assert "k.model" in str(raised.value) and not witness.exists()


def test_a_saved_companion_loads_back_with_its_thresholds_and_probabilities(tmp_path):
    from qcode.model import save_companion

    codebook = load_codebook(REPO / "codebooks" / "kronoberg.yaml")
    companion = load_companion(codebook)
    shutil.copyfile(REPO / "codebooks" / "kronoberg.yaml", tmp_path / "k.yaml")
    save_companion(companion, tmp_path / "k.model")
    again = load_companion(load_codebook(tmp_path / "k.yaml"))
    assert (again.confirm, again.add, again.keep_best) == (
        companion.confirm,
        companion.add,
        companion.keep_best,
    )
    texts = ["Vi har ingen handlingsplan för människohandel.", "Samverkan med polisen fungerar."]
    assert again.model.predict_proba(texts).equals(companion.model.predict_proba(texts))


def test_batches_and_an_emptied_token_cache_give_the_same_probabilities(monkeypatch):
    import numpy as np

    import qcode.model.linear as model

    companion = load_companion(load_codebook(REPO / "codebooks" / "kronoberg.yaml"))
    texts = [
        p
        for f in sorted((REPO / "transcripts").glob("*.md"))[:3]
        for p in f.read_text(encoding="utf-8").split("\n\n")
        if p.strip()
    ]
    assert len(texts) > model.ROWS_PER_BATCH  # scored in several batches
    together = companion.model.predict_proba(texts).to_numpy()
    one_by_one = np.vstack([companion.model.predict_proba([t]).to_numpy() for t in texts])
    assert np.abs(together - one_by_one).max() < 1e-12
    monkeypatch.setattr(model, "TOKEN_CACHE_SIZE", 30)
    fresh = load_companion(load_codebook(REPO / "codebooks" / "kronoberg.yaml"))
    again = np.vstack(
        [fresh.model.predict_proba(texts[i : i + 5]).to_numpy() for i in range(0, len(texts), 5)]
    )
    assert np.abs(again - together).max() < 1e-12
    distinct = {token for text in texts for token in text.split()}
    assert len(fresh.model._token_ids) < len(distinct)  # it was emptied between batches


def _rewrite_companion(source: Path, target: Path, **changes) -> None:
    """Copy a companion archive, replacing members (``name=array``) or the header (``header=dict``)."""
    import json

    import numpy as np

    with np.load(source, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    if "header" in changes:
        header = json.loads(str(members["header"]))
        header.update(changes.pop("header"))
        members["header"] = np.array(json.dumps(header))
    members.update(changes)
    with open(target, "wb") as handle:
        np.savez(handle, **members)


@pytest.mark.parametrize(
    "changes, why",
    [
        ({"header": {"confirm": "very"}}, "could not convert"),
        ({"header": {"keep_best": 7}}, "not a probability"),
        ({"header": {"format": "other"}}, "not the qcode companion format"),
        ({"weights": __import__("numpy").zeros((3, 2))}, "do not fit"),
    ],
)
def test_a_damaged_or_foreign_companion_is_refused_in_one_line(tmp_path, changes, why):
    shutil.copyfile(REPO / "codebooks" / "kronoberg.yaml", tmp_path / "k.yaml")
    _rewrite_companion(
        companion_path(REPO / "codebooks" / "kronoberg.yaml"), tmp_path / "k.model", **changes
    )
    with pytest.raises(ModelError, match=why) as raised:
        load_companion(load_codebook(tmp_path / "k.yaml"))
    assert "\n" not in str(raised.value) and "k.model" in str(raised.value)


def test_a_companion_that_would_unpack_to_gigabytes_is_refused_unread(tmp_path):
    import zipfile

    shutil.copyfile(REPO / "codebooks" / "kronoberg.yaml", tmp_path / "k.yaml")
    with zipfile.ZipFile(tmp_path / "k.model", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("weights.npy", "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(300):  # 300 MB of zeros, a few hundred KB packed
                member.write(chunk)
    with pytest.raises(
        ModelError,
        match=r"refused: member 'weights.npy' is 314572800 bytes "
        r"\(limit \d+\)",
    ) as raised:  # SafeZip, before reading
        load_companion(load_codebook(tmp_path / "k.yaml"))
    assert "\n" not in str(raised.value) and "k.model" in str(raised.value)


def test_companion_train_inside_a_project_after_a_codebook_edit(tmp_path, monkeypatch):
    """A codebook edit, then `qcode companion train` from the project's own human codings:
    the next tag uses the new companion, without a warning."""
    import csv

    monkeypatch.chdir(tmp_path)
    shutil.copyfile(REPO / "codebooks" / "kronoberg.yaml", tmp_path / "k.yaml")
    shutil.copyfile(companion_path(REPO / "codebooks" / "kronoberg.yaml"), tmp_path / "k.model")
    with open(tmp_path / "k.yaml", "a", encoding="utf-8") as handle:
        handle.write("# edited\n")
    (tmp_path / "t").mkdir()
    names = ["polis-underrattelse.md", "kommun-ifo-ekeryd.md", "jour-kvinnojour.md"]
    for name in names:
        shutil.copyfile(REPO / "transcripts" / name, tmp_path / "t" / name)
    runner = CliRunner()
    base = ["--codebook", "k.yaml", "--db", "p.db"]
    out = runner.invoke(cli, ["tag", "t", *base, "-j", "1"])
    assert out.exit_code == 0 and "trained for another version of the codebook" in out.stderr
    from qcode.store import Store

    with Store(tmp_path / "p.db") as store:
        documents = set(store.document_ids())
    with open(REPO / "data" / "gold" / "demo-handcoded.csv", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["document"] in documents]
    with open(tmp_path / "hand.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["document", "segment", "code"])
        writer.writeheader()
        writer.writerows(rows)
    assert (
        runner.invoke(
            cli, ["import", "codings", "hand.csv", "--coder", "eva", "--db", "p.db"]
        ).exit_code
        == 0
    )

    out = runner.invoke(cli, ["companion", "train", *base])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith("examples per theme")
    assert lines[1].split() == ["code", "passages", "examples", "used"]  # no "why": all used
    counts = {line.split()[0]: line.split()[1:4] for line in lines[2:8]}
    themes = ["erfarenhet", "beredskap", "samverkan", "kunskap", "dubbla_roller", "rapportering"]
    assert list(counts) == themes
    for theme in themes:
        coded = sum(1 for r in rows if r["code"].split("/")[0] == theme)
        assert int(counts[theme][0]) == coded
    assert {used for _passages, _examples, used in counts.values()} == {"yes"}
    assert "cross-validated macro-F1 per segment: rules" in out.output
    assert out.output.rstrip().endswith(
        "wrote k.model; the next `qcode tag` re-codes every document with it"
    )
    assert load_companion(load_codebook(tmp_path / "k.yaml")) is not None  # current again

    out = runner.invoke(cli, ["tag", "t", *base, "-j", "1"])
    assert out.exit_code == 0 and "warning" not in out.stderr
    assert f"documents: {len(documents)} tagged" in out.output
    with Store(tmp_path / "p.db") as store:  # coded with the new companion voting
        assert all(":companion=" in key for _sha, key in store.document_states().values())
