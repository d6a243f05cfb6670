"""The real things that show our output: MathJax 3 under node (GitHub, Jupyter) and pdflatex.

``mathjax_errors`` typesets TeX with ``tests/mathjax/check.js``; ``math_blocks`` finds the math of a
Markdown text the way GitHub does ($$ … $$ displays, $ … $ inline). Outside CI a missing node or
mathjax-full skips the test; in CI (``CI`` set) it fails, so a check can never pass by not running.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "mathjax"


def _skip_or_fail(why: str):
    if os.environ.get("CI"):
        pytest.fail(f"{why} on CI: .ci/run installs it (npm install --prefix tests/mathjax)")
    pytest.skip(f"{why} (npm install --prefix tests/mathjax)")


def mathjax_errors(blocks: list[tuple[str, bool]]) -> list[str]:
    """One message per (tex, display) block: "" when MathJax typesets it, else its error."""
    node = shutil.which("node")
    if node is None:
        _skip_or_fail("node is not installed")
    if not (HERE / "node_modules" / "mathjax-full").exists():
        _skip_or_fail("mathjax-full is not installed")
    payload = json.dumps([{"tex": tex, "display": display} for tex, display in blocks])
    proc = subprocess.run([node, str(HERE / "check.js")], input=payload, capture_output=True, text=True,
                          timeout=300, check=True)
    return json.loads(proc.stdout)


_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)((?:\\.|[^$\\])+?)\$")


def math_blocks(markdown: str) -> list[tuple[str, bool]]:
    """The math of a Markdown text: display blocks first, then the inline math outside them
    (code spans and fenced code are left out, as GitHub does)."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    blocks = [(m.group(1), True) for m in _DISPLAY.finditer(text)]
    rest = _DISPLAY.sub("", text)
    blocks += [(m.group(1), False) for m in _INLINE.finditer(rest)]
    return blocks


def pdflatex_errors(tex: str, folder: Path) -> list[str]:
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is missing on CI: .ci/run installs texlive-latex-base and texlive-latex-recommended")
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    (folder / "doc.tex").write_text(tex, encoding="utf-8")
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    log = (folder / "doc.log").read_text(errors="replace").splitlines()
    errors = [ln for ln in log if ln.startswith("!")]
    if proc.returncode != 0 and not errors:
        errors = [f"pdflatex exited with {proc.returncode}"]
    return errors
