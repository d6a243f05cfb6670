"""The CLI is a door: derive prints LaTeX, bad input exits 2 with one line on stderr."""

import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from jacobian_sym.cli import cli


def test_derive_prints_latex():
    result = CliRunner().invoke(cli, ["derive", "2.5"])
    assert result.exit_code == 0
    assert r"\delta^{T} x^{T}" in result.output and r"\begin{align*}" in result.output


def test_derive_text_and_denominator():
    result = CliRunner().invoke(cli, ["derive", "2.5", "--format", "text", "--layout", "denominator"])
    assert result.exit_code == 0 and "∂J/∂W = δ xᵀ" in result.output


def test_list():
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 0 and "2.7" in result.output


def test_verify_command():
    result = CliRunner().invoke(cli, ["verify", "2.1"])
    assert result.exit_code == 0 and "PASS" in result.output and "FAIL" not in result.output


def test_unknown_identity_exits_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "jacobian_sym", "derive", "9.9"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and "9.9" in proc.stderr


def test_derive_model_file_prints_section_3():
    result = CliRunner().invoke(cli, ["derive", "derivations/one_layer.toml"])
    assert result.exit_code == 0
    assert r"\delta_{2}^{T} x^{T}" in result.output and r"\left(\delta_{2} W\right)^{T}" in result.output


def test_missing_model_file_exits_2():
    result = CliRunner().invoke(cli, ["derive", "derivations/nope.toml"])
    assert result.exit_code == 2 and "nope.toml" in result.output


def test_expression_target():
    result = CliRunner().invoke(cli, ["derive", "x.T @ A @ x", "--shape", "x=n,1", "--shape", "A=n,n", "--wrt", "x",
                                      "--format", "text"])
    assert result.exit_code == 0 and "∂J/∂x = xᵀ A + (A x)ᵀ" in result.output


def test_expression_jacobian_target_and_layout():
    result = CliRunner().invoke(cli, ["derive", "W @ x", "--shape", "W=n,m", "--shape", "x=m,1", "--wrt", "x",
                                      "--format", "text", "--layout", "denominator"])
    assert result.exit_code == 0 and "∂f/∂x = Wᵀ" in result.output


def _run(*args):
    return subprocess.run([sys.executable, "-m", "jacobian_sym", *args], capture_output=True, text=True)


@pytest.mark.parametrize("args, words", [
    (("derive", "x @@ W", "--shape", "x=n,1", "--wrt", "x"), "expression:1:4: syntax error"),
    (("derive", "x", "--shape", "x=n"), "--shape takes NAME=ROWS,COLS"),
    (("derive", "q", "--shape", "x=n,1", "--wrt", "x"), "'q' has no --shape"),
    (("derive", "x", "--shape", "x=n,1"), "needs --wrt"),
    (("derive", "derivations/missing.toml"), "missing.toml"),
    (("verify", "7.7"), "unknown identity '7.7'"),
])
def test_bad_input_exits_2_with_one_line(args, words):
    proc = _run(*args)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_verify_model_file_and_version():
    result = CliRunner().invoke(cli, ["verify", "derivations/logistic.toml"])
    assert result.exit_code == 0 and "all proofs pass" in result.output
    assert "0.1.0" in CliRunner().invoke(cli, ["--version"]).output


@pytest.mark.parametrize("command", ["list", "derive", "verify", "render", "codegen", "bench", "audit", "errata"])
def test_help_has_examples(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output


# ----- what the command line refuses, and what it says -----
def _run(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "jacobian_sym", *args], capture_output=True, text=True,
                          timeout=300, **kwargs)


@pytest.mark.parametrize("args,message", [
    (["derive", "2.5", "--wrt", "x"], "--wrt applies to an expression TARGET"),
    (["derive", "derivations/one_layer.toml", "--shape", "x=n,1"], "--shape applies to an expression TARGET"),
    (["derive", "2.5", "--format", "text", "--standalone"], "--standalone makes a LaTeX document"),
    (["derive", "2.5", "-o", "/missing/dir/x.tex"], "the folder /missing/dir does not exist"),
    (["derive", "2.5", "--pdf", "/missing/dir/x.pdf"], "the folder /missing/dir does not exist"),
    (["codegen", "derivations/one_layer.toml", "-o", "/missing/dir/k.py"], "the folder /missing/dir does not exist"),
    (["derive", "2.5", "--hessian"], "--hessian applies to an expression TARGET"),
    (["derive", "x.T @ A @ x", "--shape", "x=n,1", "--shape", "A=n,n", "--wrt", "x", "--hessian", "--hvp", "V"],
     "ask for one second-order result at a time"),
    (["derive", "sum(A @ x)", "--shape", "x=n,1", "--shape", "A=m,n", "--wrt", "A", "--hessian"],
     "its Hessian is a 4-index object"),
    (["derive", "A @ x", "--shape", "x=n,1", "--shape", "A=m,n", "--wrt", "x", "--hessian"],
     "needs a scalar expression, but it is m×1"),
    (["derive", "sum(A @ x)", "--shape", "x=n,1", "--shape", "A=m,n", "--shape", "V=n,m", "--wrt", "A",
      "--hvp", "V"], "the direction V is n×m but A is m×n"),
    (["derive", "2.5", "--gauss-newton", "W"], "--gauss-newton applies to a model file TARGET"),
    (["derive", "derivations/one_layer.toml", "--gauss-newton", "Q"], "'Q' is not a variable of the model"),
])
def test_flags_that_do_not_apply_and_unwritable_paths_are_one_line_and_exit_2(args, message):
    proc = _run(*args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_dash_h_is_help():
    proc = _run("derive", "-h")
    assert proc.returncode == 0 and "Usage:" in proc.stdout


def test_a_closed_pipe_is_one_line_and_exit_2():
    """The reader goes away before anything is written (| head that has had enough): one line on stderr,
    exit 2, no traceback — also when Python flushes stdout on the way out."""
    proc = subprocess.Popen([sys.executable, "-m", "jacobian_sym", "derive", "2.7", "--format", "text"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # closed before the derivation is done: every write fails with EPIPE
    stderr = proc.stderr.read()
    assert proc.wait(timeout=300) == 2 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines() == ["error: the output pipe was closed before everything was written"]


@pytest.mark.exhaustive
def test_render_says_when_everything_is_current(tmp_path):
    shutil.copytree("derivations", tmp_path / "derivations")
    first = _run("render", "--folder", str(tmp_path / "derivations"))
    again = _run("render", "--folder", str(tmp_path / "derivations"))
    assert first.returncode == again.returncode == 0
    assert "all documents are up to date" in again.stdout


def test_pdf_says_where_it_went(tmp_path):
    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex is not installed")
    proc = _run("derive", "2.5", "--pdf", str(tmp_path / "x.pdf"), "-o", str(tmp_path / "x.tex"))
    assert proc.returncode == 0 and f"wrote the PDF to {tmp_path / 'x.pdf'}" in proc.stderr


@pytest.mark.parametrize("args, words", [
    (["derive", "--bogus"], "No such option '--bogus'"),
    (["derive"], "Missing argument 'TARGET'"),
    (["derive", "2.5", "--format", "nope"], "'nope' is not one of"),
    (["list", "--models", "nowhere"], "--models nowhere: no such folder"),
    (["codegen", "2.5"], "codegen takes a model file; 2.5 is one of the notes' identities"),
])
def test_a_usage_error_is_one_line_and_exit_2(args, words):
    proc = subprocess.run([sys.executable, "-m", "jacobian_sym", *args], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and words in proc.stderr, proc.stderr
