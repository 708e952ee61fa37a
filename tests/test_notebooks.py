"""The notebooks are committed clean (no outputs, no execution counts), bilingual, and named in the README.

``make test`` runs them on the sample (``pytest --nbmake notebooks``); this file checks what is
committed: a notebook saved after a run carries its outputs (the web map alone is 1.4 MB of
HTML) and its execution counts, which bloat every diff and hide the real changes.
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FIX = (
    "clear them before committing: `.venv/bin/nbstripout notebooks/*.ipynb` "
    "(or in Jupyter: Edit → Clear Outputs of All Cells, then save)"
)


def leftovers(nb: nbformat.NotebookNode) -> list[str]:
    """What a run left in a notebook: code cells with outputs or an execution count."""
    found = []
    for number, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {number} has {len(cell.outputs)} output(s)")
        if cell.get("execution_count") is not None:
            found.append(f"cell {number} has execution_count {cell.execution_count}")
    return found


def not_bilingual(nb: nbformat.NotebookNode) -> list[str]:
    """Markdown cells without Chinese or without English prose (code spans do not count as English)."""
    found = []
    for number, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "markdown":
            continue
        prose = re.sub(r"`[^`]*`", "", cell.source)
        chinese = re.search(r"[\u4e00-\u9fff]", prose)
        english = len(re.findall(r"\b[A-Za-z]{2,}\b", prose)) >= 3
        if not (chinese and english):
            found.append(f"cell {number} ({'no English' if chinese else 'no Chinese'}): {cell.source[:40]!r}")
    return found


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert any(c.cell_type == "code" for c in nb.cells)
    found = leftovers(nb)
    more = f" and {len(found) - 4} more" if len(found) > 4 else ""
    assert not found, f"{path.name}: {'; '.join(found[:4])}{more}; {FIX}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_text_is_in_chinese_and_english(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert any(c.cell_type == "markdown" for c in nb.cells)
    assert not not_bilingual(nb), f"{path.name}: {not_bilingual(nb)}"


def test_readme_names_every_notebook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"notebooks/([\w-]+\.ipynb)", readme))
    assert named == {p.name for p in NOTEBOOKS}


def test_the_checks_catch_a_notebook_saved_after_a_run():
    ran = new_notebook(
        cells=[
            new_markdown_cell("# 标题 · A title in both languages"),
            new_code_cell("print(1)", execution_count=3, outputs=[new_output("stream", name="stdout", text="1\n")]),
            new_code_cell("x = 1", execution_count=4),
            new_markdown_cell("Only English here, no Chinese"),
        ]
    )
    assert leftovers(ran) == ["cell 2 has 1 output(s)", "cell 2 has execution_count 3", "cell 3 has execution_count 4"]
    assert len(not_bilingual(ran)) == 1 and "cell 4 (no Chinese)" in not_bilingual(ran)[0]
    ran.cells[1].outputs, ran.cells[1].execution_count, ran.cells[2].execution_count = [], None, None
    assert leftovers(ran) == []
