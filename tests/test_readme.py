"""Every README code block runs as written: the Python blocks top to bottom in one session (a value
after ``# →`` is asserted to be what the line prints), the shell lines that call jacobian-sym in a
scratch copy of the repository's documents. A shell line this test does not run must be one CI runs
(the two set-up commands) or a benchmark, which runs for minutes by design; nothing else is skipped."""

import ast
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import jacobian_sym as js
from jacobian_sym.audit.context import read_context

README = Path("README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(python|sh)\n(.*?)```", README, flags=re.S)
#: shell lines run elsewhere: the set-up commands (by .ci/run) and benchmarks (by hand, for minutes)
NOT_HERE = ("pip install", "python benchmarks/", "OPENBLAS_NUM_THREADS=1 python benchmarks/", "python scripts/",
            "bash scripts/")


def _arrow(line: str):
    """(code, expected) for a line ``code  # → expected  (a remark)``; expected is None without an arrow."""
    code, sep, comment = line.partition("# →")
    if not sep:
        return line, None
    expected = re.split(r"\s{2,}\(", comment.strip(), maxsplit=1)[0].strip()
    return code.rstrip(), expected


def test_the_readme_has_python_and_shell_blocks():
    kinds = [k for k, _ in BLOCKS]
    assert kinds.count("python") >= 4 and kinds.count("sh") >= 3


#: a block whose first line is ``# needs torch`` runs in its own session when PyTorch is installed
NEEDS = re.compile(r"# needs (\w+)")


def _run_block(body: str, namespace: dict) -> int:
    statements = ast.parse(body).body
    lines = body.splitlines()
    checked = 0
    for node in statements:
        source = "\n".join(lines[node.lineno - 1:node.end_lineno])
        code, expected = _arrow(source.splitlines()[-1])
        source = "\n".join([*source.splitlines()[:-1], code])
        if expected is None:
            exec(compile(source, "README.md", "exec"), namespace)  # noqa: S102 - our own README
            continue
        value = eval(compile(ast.parse(source, mode="eval"), "README.md", "eval"), namespace)  # noqa: S307
        assert str(value) == expected, f"README: {code.strip()!r} prints {value}, not {expected}"
        checked += 1
    return checked


@pytest.mark.optional
@pytest.mark.exhaustive  # (CI installs the backends extra before this tier)
@pytest.mark.parametrize("body", [b for k, b in BLOCKS if k == "python" and NEEDS.match(b)])
def test_every_block_that_needs_an_engine_runs_with_it(body):
    pytest.importorskip(NEEDS.match(body).group(1))
    assert _run_block(body, {"__name__": "readme"}) >= 1


def test_every_python_block_runs_and_prints_what_it_says():
    namespace = {"__name__": "readme"}
    checked = 0
    for kind, body in BLOCKS:
        if kind != "python" or NEEDS.match(body):
            continue
        statements = ast.parse(body).body
        lines = body.splitlines()
        for node in statements:
            source = "\n".join(lines[node.lineno - 1:node.end_lineno])
            code, expected = _arrow(source.splitlines()[-1])
            source = "\n".join([*source.splitlines()[:-1], code])
            if expected is None:
                exec(compile(source, "README.md", "exec"), namespace)  # noqa: S102 - our own README
                continue
            value = eval(compile(ast.parse(source, mode="eval"), "README.md", "eval"), namespace)  # noqa: S307
            assert str(value) == expected, f"README: {code.strip()!r} prints {value}, not {expected}"
            checked += 1
    assert checked >= 15


def _shell_lines():
    for kind, body in BLOCKS:
        if kind == "sh":
            for line in body.splitlines():
                line = line.split("  #")[0].strip()
                if line:
                    yield line


SHELL = list(_shell_lines())


def test_every_shell_line_is_run_here_or_by_ci():
    for line in SHELL:
        assert line.startswith("jacobian-sym") or line.startswith(NOT_HERE), f"README line nobody runs: {line}"
    assert sum(line.startswith("jacobian-sym") for line in SHELL) >= 8


#: `jacobian-sym verify` proves every identity and model file (2–3 min): the exhaustive tier runs it
@pytest.mark.parametrize("line", [pytest.param(ln, marks=pytest.mark.exhaustive) if ln.startswith("jacobian-sym verify")
                                  else ln for ln in SHELL if ln.startswith("jacobian-sym")])
def test_every_jacobian_sym_line_runs(line, tmp_path):
    shutil.copytree("derivations", tmp_path / "derivations")
    shutil.copytree("tests/audit", tmp_path / "tests" / "audit")
    args = shlex.split(line)
    if "[--check]" in args:  # the README's way of showing an optional flag: run both
        args.remove("[--check]")
    if args[:2] == ["jacobian-sym", "derive"] and "--pdf" in args and not shutil.which("pdflatex"):
        pytest.skip("pdflatex is not installed")
    proc = subprocess.run([sys.executable, "-m", "jacobian_sym", *args[1:]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=900)
    # an audit exits 1 when it finds a wrong value, as the README's planted-error example does
    expected = 1 if args[:2] == ["jacobian-sym", "audit"] else 0
    assert proc.returncode == expected, f"{line}: exit {proc.returncode}: {proc.stderr[-500:]}"
    assert "Traceback" not in proc.stderr


def test_the_context_file_of_the_readme_is_read_and_decides():
    (block,) = re.findall(r"```toml\n(.*?)```", README, flags=re.S)
    context = read_context("\n".join(line.strip() for line in block.splitlines()), source="README.md")
    doc = ("# Logistic regression\n\n$$\\frac{\\partial J}{\\partial z} = p + y$$\n\n"
           "$$\\frac{\\partial J}{\\partial z} = p - y$$\n")
    report = js.audit(doc, context=context)
    assert [link.verdict for link in report.links] == ["fails", "notation"], report.summary()
