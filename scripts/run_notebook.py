"""Execute docs/tutorial.ipynb in place (nbclient + ipykernel), from the repository's root as its first
cell says, so the committed file shows the outputs of a fresh run (``tests/test_notebook.py`` compares)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"

if __name__ == "__main__":
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
                   ).execute()
    nbformat.write(nb, NOTEBOOK)
    print(f"executed {NOTEBOOK}")
