"""The CLI is a door: derive prints LaTeX, bad input exits 2 with one line on stderr."""

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
    (("derive", "q", "--shape", "x=n,1", "--wrt", "x"), "'q' is not defined"),
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


@pytest.mark.parametrize("command", ["list", "derive", "verify", "render", "codegen", "bench"])
def test_help_has_examples(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output
