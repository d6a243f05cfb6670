"""The CLI is a door: derive prints LaTeX, bad input exits 2 with one line on stderr."""

import subprocess
import sys

from click.testing import CliRunner

from jacobian_sym.cli import cli


def test_derive_prints_latex():
    result = CliRunner().invoke(cli, ["derive", "2.5"])
    assert result.exit_code == 0
    assert r"\delta^{T} x^{T}" in result.output and r"\begin{align*}" in result.output


def test_derive_text_and_denominator():
    result = CliRunner().invoke(cli, ["derive", "2.5", "--format", "text", "--layout", "denominator"])
    assert result.exit_code == 0 and "delta*x.T" in result.output


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
