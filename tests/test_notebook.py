"""notebook.ipynb runs from top to bottom without an error, through the project's own code."""

import nbformat
from nbclient import NotebookClient

from conftest import ROOT


def test_notebook_executes_and_uses_the_shared_code():
    notebook = nbformat.read(ROOT / "notebook.ipynb", as_version=4)
    source = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    for shared in ("training.train(", "optdigits.fit_to_box(", "evaluation.evaluate(",
                   "reader.stages()", "reader.read_number(", "segmentation.segment("):
        assert shared in source
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors
