"""Compiling a standalone LaTeX document with pdflatex."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from jacobian_sym.base.files import write_atomic
from jacobian_sym.errors import JacobianSymError

INSTALL_HINT = ("pdflatex was not found; install it with "
                "'apt-get install texlive-latex-base texlive-latex-recommended' (Debian/Ubuntu)")


class LatexError(JacobianSymError):
    """pdflatex is missing, or the document did not compile."""


def compile_pdf(tex: str, out: Path) -> Path:
    """Compile ``tex`` to the PDF ``out``; a LaTeX error is raised with its first message."""
    if not Path(out).parent.is_dir():
        raise LatexError(f"cannot write {out}: the folder {Path(out).parent} does not exist")
    exe = shutil.which("pdflatex")
    if exe is None:
        raise LatexError(INSTALL_HINT)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "doc.tex"
        src.write_text(tex, encoding="utf-8")
        proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp,
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log = (Path(tmp) / "doc.log").read_text(errors="replace") if (Path(tmp) / "doc.log").exists() else ""
            first = next((ln for ln in log.splitlines() if ln.startswith("!")), proc.stdout[-200:].strip())
            raise LatexError(f"pdflatex failed: {first}")
        return write_atomic(Path(out), (Path(tmp) / "doc.pdf").read_bytes())
