"""Execute docs/tutorial.ipynb in place (nbclient + ipykernel), so the committed file shows its outputs."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb"

if __name__ == "__main__":
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
                   ).execute()
    nbformat.write(nb, NOTEBOOK)
    print(f"executed {NOTEBOOK}")
