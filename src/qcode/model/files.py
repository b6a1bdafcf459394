"""The model file format: NumPy ``.npz`` archives of plain arrays plus a JSON header.

One format for both models, never a pickle, so loading one runs no code and needs no
scikit-learn:

* the companion beside a codebook (``codebooks/kronoberg.model``, :func:`save_companion`);
* the project's trained model, stored as the ``blob`` of the ``models`` table with its
  figures as JSON ``info`` (:func:`save_model`). A row pickled by an older qcode is refused
  with a message to retrain, never unpickled.

Every archive is read through :class:`~qcode.exchange.xmlutil.SafeZip`, the project's one
zip reader: member names, counts and sizes are checked before anything is unpacked, and sizes
again while reading, so an archive that would unpack to gigabytes is refused unread.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ..errors import ModelError, QcodeError
from ..store import Store
from .linear import LinearTextModel
from .trained import COMPANION_SUFFIX, METRIC_COLUMNS, CompanionModel, TrainedModel, companion_path

COMPANION_FORMAT = "qcode-companion/2"
MODEL_FORMAT = "qcode-model/1"

__all__ = [
    "COMPANION_FORMAT",
    "COMPANION_SUFFIX",
    "MODEL_FORMAT",
    "companion_codebook_sha256",
    "companion_path",
    "load_companion",
    "load_model",
    "read_arrays",
    "save_companion",
    "save_model",
    "write_arrays",
]


def write_arrays(target: IO[bytes], header: dict[str, Any], linear: LinearTextModel) -> None:
    """``linear``'s arrays and ``header`` (as JSON) as a compressed ``.npz`` into ``target``."""
    arrays: dict[str, Any] = {
        "header": np.array(json.dumps(header, ensure_ascii=False)),
        **linear.arrays(),
    }
    np.savez_compressed(target, **arrays)


def read_arrays(source: str | Path | IO[bytes], names: Sequence[str] = ()) -> dict[str, Any]:
    """The arrays of an ``.npz`` (only ``names`` when given, else all), read through
    :class:`~qcode.exchange.xmlutil.SafeZip` and without pickle; ValueError or a
    :class:`~qcode.errors.QcodeError` for anything else."""
    from ..exchange.xmlutil import SafeZip

    arrays = {}
    with SafeZip(source, kind=".npz") as archive:
        members = {
            name.removesuffix(".npy"): name for name in archive.names() if name.endswith(".npy")
        }
        for name in names or list(members):
            if name not in members:
                raise ValueError(f"no array {name!r}")
            data = archive.read(members[name])
            arrays[name] = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    return arrays


def _header(arrays: dict[str, Any], expected: str) -> dict[str, Any]:
    header = json.loads(str(arrays["header"]))
    if not isinstance(header, dict) or header.get("format") != expected:
        raise ValueError(f"not the {expected.split('/')[0].replace('-', ' ')} format")
    return header


def _linear(arrays: dict[str, Any], header: dict[str, Any]) -> LinearTextModel:
    thresholds = {str(k): float(v) for k, v in dict(header.get("thresholds") or {}).items()}
    return LinearTextModel.from_arrays(
        arrays,
        codebook_sha256=str(header["codebook_sha256"]),
        data_sha256=str(header.get("data_sha256", "")),
        thresholds=thresholds,
    )


def _why(err: Exception) -> str:
    message = err.message if isinstance(err, QcodeError) else str(err)
    return f"{type(err).__name__}: {message}"


# -- the project's trained model, in the database ----------------------------------------------
def save_model(store: Store, model: TrainedModel, name: str = "default") -> None:
    """Store the model in the project database as ``name`` (a model of the same name is
    replaced): its arrays as ``.npz`` bytes, its codes, thresholds, coders, refused codes and
    cross-validated figures as JSON, with the codebook and data hashes that make it current."""
    header = {
        "format": MODEL_FORMAT,
        "codebook_sha256": model.codebook_sha256,
        "data_sha256": model.data_sha256,
        "thresholds": dict(model.thresholds),
    }
    buffer = io.BytesIO()
    write_arrays(buffer, header, model.linear)
    info = {
        "format": MODEL_FORMAT,
        "codes": model.codes,
        "thresholds": model.thresholds,
        "coders": model.coders,
        "refused": model.refused,
        "metrics": model.metrics.to_dict(orient="records"),
    }
    store.save_model(
        buffer.getvalue(),
        codebook_sha256=model.codebook_sha256,
        data_sha256=model.data_sha256,
        info=info,
        name=name,
    )


def _retrain_command(name: str, info: Any) -> str:
    coders = info.get("coders") if isinstance(info, dict) else None
    words = ["qcode train"]
    if isinstance(coders, list):
        words += [f"--coder {coder}" for coder in coders if isinstance(coder, str)]
    if name != "default":
        words.append(f"--name {name}")
    return " ".join(words)


def load_model(store: Store, codebook: Any, name: str = "default") -> TrainedModel:
    """The project's trained model ``name``; refuses a missing one, a stale one (trained for
    another version of the codebook) and one an older qcode pickled (never unpickled) with a
    message saying what to do. The loaded model knows its name and training time
    (:attr:`TrainedModel.identity`)."""
    row = store.load_model(name)
    if row is None:
        which = "" if name == "default" else f" named {name!r}"
        raise ModelError(
            f"no trained model{which} in this project; run `qcode train` first", path=store.path
        )
    info = row["info"]
    if not isinstance(info, dict) or info.get("format") != MODEL_FORMAT:
        raise ModelError(
            f"the stored model {name!r} was saved by an older qcode in a format "
            f"qcode no longer reads (a pickle); retrain it: "
            f"{_retrain_command(name, info)}",
            path=store.path,
        )
    if row["codebook_sha256"] != codebook.sha256:
        raise ModelError(
            "the trained model is stale: codebook hash differs (model trained with codebook "
            f"{row['codebook_sha256'][:12]}, the codebook is now {codebook.sha256[:12]}); "
            "run `qcode train` again",
            path=store.path,
        )
    try:
        arrays = read_arrays(io.BytesIO(row["blob"]))
        linear = _linear(arrays, _header(arrays, MODEL_FORMAT))
        metrics = pd.DataFrame(list(info["metrics"]), columns=METRIC_COLUMNS)
        refused = {str(k): str(v) for k, v in dict(info.get("refused") or {}).items()}
        coders = [str(c) for c in info.get("coders") or []]
    except Exception as err:  # a damaged row, not a user bug
        raise ModelError(
            f"the stored model {name!r} cannot be read ({_why(err)}); retrain it: "
            f"{_retrain_command(name, info)}",
            path=store.path,
        ) from None
    return TrainedModel(linear, metrics, coders, refused, name=name, trained_at=row["created"])


# -- the companion model beside a codebook -----------------------------------------------------
def save_companion(companion: CompanionModel, path: Any) -> None:
    """Write ``companion`` as a NumPy ``.npz`` archive of plain arrays plus a JSON header (no
    pickle: loading it runs no code, and tagging with it needs no scikit-learn)."""
    from ..writers import atomic_path

    model = companion.model
    linear = model if isinstance(model, LinearTextModel) else model.linear
    header = {
        "format": COMPANION_FORMAT,
        "confirm": companion.confirm,
        "add": companion.add,
        "keep_best": companion.keep_best,
        "trained_on": companion.trained_on,
        "codebook_sha256": model.codebook_sha256,
        "data_sha256": model.data_sha256,
        "thresholds": dict(model.thresholds),
    }
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as handle:
            write_arrays(handle, header, linear)


def _probability(value: Any) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"threshold {value!r} is not a probability")
    return number


def _read_companion(path: Any) -> CompanionModel:
    """The companion in ``path``; ModelError for anything that is not one (never unpickles)."""
    try:
        arrays = read_arrays(path)
        header = _header(arrays, COMPANION_FORMAT)
        linear = _linear(arrays, header)
        keep_best = header.get("keep_best")
        return CompanionModel(
            linear,
            confirm=_probability(header["confirm"]),
            add=_probability(header["add"]),
            trained_on=str(header.get("trained_on", "")),
            keep_best=None if keep_best is None else _probability(keep_best),
        )
    except Exception as err:  # a file from another tool or an older qcode, not a user bug
        raise ModelError(
            f"not a qcode companion model ({_why(err)}); retrain it "
            "with scripts/train_companion_model.py, copy it again from the qcode "
            "package, or pass --no-companion",
            path=str(path),
        ) from None


def companion_codebook_sha256(path: Any) -> str | None:
    """The codebook hash a companion file was trained for, read from its header alone
    (cheap: the weights stay packed); None when the file is not a readable companion."""
    try:
        return str(json.loads(str(read_arrays(path, ["header"])["header"]))["codebook_sha256"])
    except Exception:  # reported with the reason when the companion is loaded
        return None


def load_companion(codebook: Any) -> CompanionModel | None:
    """The companion model beside ``codebook`` (None when there is none).

    A companion trained for another version of the codebook is refused with a
    :class:`~qcode.errors.ModelError` saying how to retrain, never used silently. The file
    holds arrays only (see :func:`save_companion`), so loading one from a codebook folder
    someone sent you runs no code.
    """
    if not getattr(codebook, "path", None):
        return None
    path = companion_path(codebook.path)
    if not path.exists():
        return None
    companion = _read_companion(path)
    if companion.codebook_sha256 != codebook.sha256:
        raise ModelError(
            "the companion model was trained for another version of the codebook; "
            "retrain it (scripts/train_companion_model.py) or pass --no-companion",
            path=str(path),
        )
    return companion
