"""notebooks/analysis.ipynb runs from top to bottom on the demo project, so it cannot rot.

It is executed with nbclient in a copy of the demo project in a temporary folder (nothing is
written into the repository), over a kernel that talks through Unix sockets: the suite forbids
network sockets.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "analysis.ipynb"
DEMO_PARTS = ("qcode.yaml", "codebooks", "transcripts", "data", "notebooks")


def test_notebook_is_committed_without_outputs() -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code cells"
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), (
        "clear the outputs before committing (Kernel > Restart & Clear Output)"
    )


def _demo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    for part in DEMO_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(
                source, root / part, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
            )
        elif source.exists():
            shutil.copy2(source, root / part)
    return root


@pytest.mark.slow
def test_notebook_executes_on_the_demo_project(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.manager import KernelManager

    transcripts = [
        p for p in (REPO / "transcripts").glob("*") if p.suffix in (".txt", ".md", ".docx")
    ]
    if not transcripts:
        pytest.skip("the demo transcripts are not in the repository yet (transcripts/ is empty)")
    root = _demo_copy(tmp_path)
    notebook = nbformat.read(root / "notebooks" / "analysis.ipynb", as_version=4)
    manager = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel-ipc"))
    # the kernel is this virtualenv's python, whatever kernelspecs the machine has
    manager.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    client = nbclient.NotebookClient(
        notebook, km=manager, timeout=600, resources={"metadata": {"path": str(root / "notebooks")}}
    )
    client.execute(env={"MPLBACKEND": "Agg", "NO_COLOR": "1"})
    every = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    errors = [
        f"{o.get('ename')}: {o.get('evalue')}" for o in every if o.get("output_type") == "error"
    ]
    assert not errors, errors
    outputs = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in every
    )
    assert re.search(r"\b[1-9]\d* documents coded", outputs)
    # the heatmap is shown inline and written beside the database, never into the repository
    assert any("image/png" in o.get("data", {}) for o in every)
    assert (root / "out" / "frequencies.png").stat().st_size > 10_000
    # quotes for dubbla_roller, each followed by its attribution in brackets
    assert len(re.findall(r"”\n\([^)\n]+", outputs)) == 3
    # only the group rows of the published survey go into the crosstab
    assert "{'group': 14, 'main_group': 4, 'total': 1}" in outputs
    assert "theme:dubbla_roller" in outputs and "rho" in outputs
    assert (root / "out" / "notebook.db").exists()
    assert not (REPO / "out" / "notebook.db").exists()
