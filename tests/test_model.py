"""The model that learns from human codes: planted signal, held-out folds, stale models.

The planted corpus (tests/data/review/fixture.py) has the code ``nattbuss`` exactly where a
passage mentions the night bus in one of several inflected or compound forms. The codebook's
rule for it is the bare word "buss" without compounds, which misses most of them and fires
on ordinary buses, so a model trained on human codes must do better on documents it has
never seen.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.codebook import load_codebook
from qcode.errors import ModelError
from qcode.model import lemma_tokens, load_model, save_model, train, training_data
from qcode.store import Store
from qcode.tag import Tagger

DATA = Path(__file__).parent / "data" / "review"
_spec = importlib.util.spec_from_file_location("review_fixture", DATA / "fixture.py")
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)

CODE = "nattbuss"


def f1(predicted: set, truth: set) -> float:
    tp = len(predicted & truth)
    return 0.0 if tp == 0 else 2 * tp / (len(predicted) + len(truth))


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(fixture.CODEBOOK)


@pytest.fixture
def planted(tmp_path, codebook):
    """A store with the planted corpus, rule codings from the real tagger, and the truth."""
    store = Store(tmp_path / "p.db")
    store.save_codes(codebook.walk(), codebook.sha256)
    tagger = Tagger(codebook)
    corpus = fixture.planted_corpus()
    truth, rules = set(), set()
    for document, segments, positives in corpus:
        codings = [c for _s, found in tagger.tag_segments(segments) for c in found]
        store.save_document(document, f"sha-{document.id}", segments, codings, tag_key="k")
        truth |= {(document.id, i) for i in positives}
        rules |= {(c.document_id, c.segment_index) for c in codings if c.code_path == CODE}
    yield store, corpus, truth, rules
    store.close()


def code_by_hand(store, coder, corpus, documents):
    """``coder`` reviews ``documents``: nattbuss ticked exactly on the true segments."""
    decisions = {
        (d.id, s.index): {CODE: s.index in positives}
        for d, segments, positives in corpus
        if d.id in documents
        for s in segments
    }
    store.replace_human_decisions(coder, decisions)


def test_lemma_features_join_inflections():
    assert lemma_tokens("Nattbussarna gick") == lemma_tokens("nattbuss gå")


def test_model_beats_rules_on_held_out_documents(planted, codebook):
    store, corpus, truth, rules = planted
    ids = [d.id for d, _s, _p in corpus]
    folds = [ids[k::3] for k in range(3)]
    model_scores, rule_scores = [], []
    for k, held_out in enumerate(folds):
        coder = f"fold{k}"
        code_by_hand(store, coder, corpus, set(ids) - set(held_out))
        model = train(store, codebook, [coder], codes=[CODE])
        assert model.codes == [CODE] and 0.0 < model.thresholds[CODE] < 1.0
        segments = [s for d, segs, _p in corpus if d.id in held_out for s in segs]
        predicted = {(c.document_id, c.segment_index) for c in model.codings(segments)}
        keys = {(s.document_id, s.index) for s in segments}
        model_scores.append(f1(predicted, truth & keys))
        rule_scores.append(f1(rules & keys, truth & keys))
    print("held-out F1, model:", model_scores, "rules:", rule_scores)
    assert all(m > r for m, r in zip(model_scores, rule_scores)), (model_scores, rule_scores)
    assert min(model_scores) >= 0.8
    assert max(rule_scores) < 0.7


def test_training_reports_cross_validated_figures_and_refuses_rare_codes(planted, codebook):
    store, corpus, truth, _rules = planted
    code_by_hand(store, "anna", corpus, {d.id for d, _s, _p in corpus})
    model = train(store, codebook, ["anna"])
    row = model.metrics.set_index("code").loc[CODE]
    assert row["positives"] == len(truth) and row["examples"] == 2
    assert row["units"] == sum(len(s) for _d, s, _p in corpus)
    assert 0.8 <= row["f1"] <= 1.0 and 0 < row["precision"] <= 1 and 0 < row["recall"] <= 1
    # nobody coded beredskap or samverkan: refused by name, with the counts
    assert set(model.refused) == {"beredskap", "beredskap/saknas", "samverkan"}
    assert model.refused["beredskap"] == "0 coded passage(s) + 1 example(s) < 8"
    data = training_data(store, codebook, ["anna"])
    assert model.data_sha256 == data.sha256()


def test_nothing_to_learn_is_an_error(planted, codebook):
    store, corpus, _truth, _rules = planted
    with pytest.raises(ModelError, match="no human codings to learn from"):
        train(store, codebook)
    code_by_hand(store, "anna", corpus, {corpus[0][0].id})
    with pytest.raises(ModelError, match=r"no code has enough examples.*nattbuss: \d+ coded"):
        train(store, codebook, ["anna"], min_examples=50)


def test_saved_model_round_trips_and_a_stale_one_is_refused(planted, codebook, tmp_path):
    store, corpus, _truth, _rules = planted
    with pytest.raises(ModelError, match="no trained model in this project; run `qcode train`"):
        load_model(store, codebook)
    code_by_hand(store, "anna", corpus, {d.id for d, _s, _p in corpus})
    model = train(store, codebook, ["anna"], codes=[CODE])
    save_model(store, model)
    loaded = load_model(store, codebook)
    segments = corpus[0][1]
    assert loaded.predict_proba([s.text for s in segments]).equals(
        model.predict_proba([s.text for s in segments])
    )
    row = store.load_model()
    assert row["codebook_sha256"] == codebook.sha256 and row["info"]["codes"] == [CODE]
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        fixture.CODEBOOK.read_text(encoding="utf-8").replace(
            "label: Nattbussen", "label: Nattbussar"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ModelError, match="stale: codebook hash differs"):
        load_model(store, load_codebook(changed))


def test_the_plain_array_model_predicts_what_scikit_learn_predicts(planted, codebook):
    store, corpus, _truth, _rules = planted
    decisions = {
        (d.id, s.index): {CODE: s.index in positives, "samverkan": s.index % 3 == 0}
        for d, segments, positives in corpus
        for s in segments
    }
    store.replace_human_decisions("anna", decisions)
    model = train(store, codebook, ["anna"], codes=[CODE, "samverkan"])
    assert model.codes == [CODE, "samverkan"] and set(model.thresholds) == set(model.codes)
    texts = [s.text for s in corpus[0][1]] + [
        "",
        "  \n ",
        "Å",
        "SAMVERKAN med polis- och socialtjänst, t.ex. 2010-talet!",
        "ΣΣ İstanbul ﬁnns\u00a0här",
        "x" * 300,
    ]
    matrix = model.features.transform(texts)  # what scikit-learn alone computes
    sklearn_p = np.column_stack([c.predict_proba(matrix)[:, 1] for c in model.classifiers.values()])
    expected = model.predict_proba(texts)
    assert list(expected.columns) == [CODE, "samverkan"] and len(expected) == len(texts)
    assert np.abs(expected.to_numpy() - sklearn_p).max() < 1e-12
    assert model.predict_proba(texts).equals(expected)  # the token cache changes nothing
    save_model(store, model)
    loaded = load_model(store, codebook)  # arrays only: no scikit-learn object in it
    assert loaded.features is None and loaded.classifiers == {}
    assert loaded.predict_proba(texts).equals(expected)
    assert loaded.metrics.equals(model.metrics) and loaded.refused == model.refused


def test_the_stored_model_is_npz_arrays_and_an_old_pickled_row_is_refused_unread(
    planted, codebook, tmp_path
):
    import io
    import pickle
    import zipfile

    store, corpus, _truth, _rules = planted
    code_by_hand(store, "anna", corpus, {d.id for d, _s, _p in corpus})
    save_model(store, train(store, codebook, ["anna"], codes=[CODE]))
    row = store.load_model()
    with zipfile.ZipFile(io.BytesIO(row["blob"])) as archive:  # an .npz: arrays and a header
        assert {"header.npy", "weights.npy", "lemma_terms.npy"} <= set(archive.namelist())
    assert row["info"]["format"] == "qcode-model/1" and row["info"]["coders"] == ["anna"]

    witness = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (witness,))

    # what an older qcode stored: a pickle in the blob, info without a format
    info = {k: v for k, v in row["info"].items() if k != "format"}
    store.save_model(
        pickle.dumps(Payload()),
        codebook_sha256=codebook.sha256,
        data_sha256=row["data_sha256"],
        info=info,
    )
    with pytest.raises(
        ModelError, match=r"older qcode.*retrain it: qcode train --coder anna$"
    ) as raised:
        load_model(store, codebook)
    assert "\n" not in str(raised.value) and not witness.exists()
    # a pickle under a new-looking info is not unpickled either
    store.save_model(
        pickle.dumps(Payload()),
        codebook_sha256=codebook.sha256,
        data_sha256=row["data_sha256"],
        info=row["info"],
        name="other",
    )
    with pytest.raises(
        ModelError,
        match=r"cannot be read .*not a \.npz \(zip\) archive.*"
        r"retrain it: qcode train --coder anna --name other$",
    ):
        load_model(store, codebook, "other")
    assert not witness.exists()


def test_loading_and_applying_a_model_does_not_import_scikit_learn():
    import subprocess
    import sys

    code = (
        "import sys, qcode.model, qcode.project, qcode.vote, qcode.companion; "
        "from qcode.model import load_model, load_companion, LinearTextModel; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'pickle')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "sklearn" not in out.stdout


def write_transcripts(folder: Path) -> dict[str, set[int]]:
    """The planted corpus as transcript files; returns each document's true segments."""
    folder.mkdir()
    truth = {}
    for document, segments, positives in fixture.planted_corpus(documents=9):
        lines = [f"I: Fråga {i}?\nIP: {s.text}" for i, s in enumerate(segments)]
        (folder / f"{document.id}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
        truth[document.id] = positives
    return truth


def test_cli_train_then_tag_with_model_then_stale(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    shutil.copyfile(fixture.CODEBOOK, tmp_path / "cb.yaml")
    truth = write_transcripts(tmp_path / "transcripts")
    base = ["--codebook", "cb.yaml", "--db", "p.db"]
    assert runner.invoke(cli, ["tag", "transcripts", *base]).exit_code == 0
    # the respondent turns are segments 1, 3, 5, ... (questions are 0, 2, 4, ...)
    rows = ["document,segment,code"] + [
        f"{doc},{2 * i + 1},{CODE}" for doc, positives in truth.items() for i in sorted(positives)
    ]
    (tmp_path / "hand.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = runner.invoke(cli, ["import", "codings", "hand.csv", "--coder", "anna", "--db", "p.db"])
    assert out.exit_code == 0, out.output
    assert f"codings added: {len(rows) - 1}; removed: 0; rows skipped: 0" in out.output

    out = runner.invoke(cli, ["train", *base, "--coder", "anna"])
    assert out.exit_code == 0, out.output
    assert (
        "too few examples, not trained: beredskap (0 coded passage(s) + 1 example(s) < 8)"
        in out.output
    )
    header, row = out.stdout.splitlines()[:2]
    assert header.split() == [
        "code",
        "positives",
        "examples",
        "units",
        "precision",
        "recall",
        "f1",
        "threshold",
    ]
    assert row.split()[0] == CODE

    out = runner.invoke(cli, ["tag", "transcripts", *base, "--model"])
    assert out.exit_code == 0, out.output
    with Store(tmp_path / "p.db") as store:
        model_codings = store.codings_frame(source="model")
        assert len(model_codings) > 0 and set(model_codings["code"]) == {CODE}
        assert model_codings["score"].between(0, 1).all()
        assert len(store.codings_frame(source="rule")) > 0  # rules still there, told apart
        assert len(store.codings_frame(source="human", coder="anna")) == sum(
            map(len, truth.values())
        )
    out = runner.invoke(
        cli, ["export", "codings", "--db", "p.db", "--source", "model", "-o", "m.csv"]
    )
    assert out.exit_code == 0
    lines = (tmp_path / "m.csv").read_text().splitlines()
    source = lines[0].split(",").index("source")
    assert {line.split(",")[source] for line in lines[1:]} == {"model"}

    # `tag --model` switched the model on: a plain `tag` keeps applying it (issue 15)
    n_model = len(model_codings)
    first = tmp_path / "transcripts" / sorted(truth)[0]
    first = first.with_suffix(".txt")
    first.write_text(first.read_text(encoding="utf-8") + "\nIP: Tack.\n", encoding="utf-8")
    out = runner.invoke(cli, ["tag", "transcripts", *base])
    assert out.exit_code == 0, out.output
    assert "documents: 1 tagged" in out.output
    with Store(tmp_path / "p.db") as store:
        again = store.codings_frame(source="model")
        assert len(again) == n_model
        assert again["coder"].str.fullmatch(r"default@\d{4}-\d\d-\d\dT[\d:]+\+00:00").all()
        assert store.get_meta("model") == "default"

    (tmp_path / "cb.yaml").write_text(
        (tmp_path / "cb.yaml")
        .read_text(encoding="utf-8")
        .replace("label: Samverkan", "label: Samarbete"),
        encoding="utf-8",
    )
    out = runner.invoke(cli, ["tag", "transcripts", *base, "--model"])
    assert out.exit_code == 2
    assert "stale: codebook hash differs" in out.output and "run `qcode train` again" in out.output
    out = runner.invoke(
        cli, ["tag", "transcripts", *base]
    )  # switched on but stale: said, not silent
    assert out.exit_code == 0
    assert "the project model 'default' is switched on but cannot be used" in out.stderr
    out = runner.invoke(cli, ["train", "--off", "--db", "p.db"])
    assert out.exit_code == 0 and out.output == "model default switched off\n"
    out = runner.invoke(cli, ["tag", "transcripts", *base])
    assert out.exit_code == 0 and "project model" not in out.stderr
