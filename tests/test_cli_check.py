"""`jacobian-sym check`: an expression TARGET with --shape, decided as NumPy's central differences say;
the identities' own output names; claim errors at claim:LINE:COLUMN of the character at fault."""

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from jacobian_sym.cli import cli

NOTES = Path("jacobian_sym/notes/computing-neural-network-gradients.md")


def run(*args):
    return CliRunner().invoke(cli, ["check", *args])


def central_differences(f, X, h=1e-6):
    """∂ vec f / ∂ vec X by central differences (rows: f's entries, columns: X's, row-major): for a
    scalar f, reshaped as X."""
    columns = []
    for k in range(X.size):
        step = np.zeros(X.size)
        step[k] = h
        step = step.reshape(X.shape)
        columns.append((np.ravel(f(X + step)) - np.ravel(f(X - step))) / (2 * h))
    J = np.stack(columns, axis=1)
    return J.reshape(X.shape) if J.shape[0] == 1 else J


RNG = np.random.default_rng(7)
VALUES = {"W": RNG.normal(size=(3, 2)), "x": RNG.normal(size=(2, 1)), "y": RNG.normal(size=(3, 1))}
CONCRETE = ("W=3,2", "x=2,1", "y=3,1")
SYMBOLIC = ("W=n,m", "x=m,1", "y=n,1")

#: (expression, its NumPy forward of the variable, --wrt, claim, the claim in NumPy): the test's own
#: reading of both texts, so the truth comes from central differences, not from the package
CASES = [
    ("sum(square(W @ x - y))", lambda W: np.sum(np.square(W @ VALUES["x"] - VALUES["y"])), "W",
     "2 * (W @ x - y) @ x.T", lambda v: 2 * (v["W"] @ v["x"] - v["y"]) @ v["x"].T),
    ("sum(square(W @ x - y))", lambda W: np.sum(np.square(W @ VALUES["x"] - VALUES["y"])), "W",
     "(W @ x - y) @ x.T", lambda v: (v["W"] @ v["x"] - v["y"]) @ v["x"].T),
    ("W @ x", lambda x: VALUES["W"] @ x, "x", "W", lambda v: v["W"]),
    ("W @ x", lambda x: VALUES["W"] @ x, "x", "2 * W", lambda v: 2 * v["W"]),
]


@pytest.mark.parametrize("sizes", [CONCRETE, SYMBOLIC], ids=["numbers", "symbols"])
@pytest.mark.parametrize("expression, forward, wrt, claim, claimed", CASES,
                         ids=[f"{c[0]} by {c[2]}: {c[3]}" for c in CASES])
def test_an_expression_claim_is_decided_as_central_differences_say(expression, forward, wrt, claim, claimed,
                                                                   sizes):
    truth = central_differences(forward, VALUES[wrt])
    value = claimed(VALUES)
    holds = value.shape == truth.shape and np.allclose(value, truth, rtol=1e-6, atol=1e-6)
    shapes = [arg for spec in sizes if spec.split("=")[0] in expression for arg in ("--shape", spec)]
    result = run(expression, *shapes, "--wrt", wrt, "--claim", claim)
    assert result.exit_code == (0 if holds else 1), result.output
    assert result.stdout.startswith("holds: " if holds else "does not hold: ")


def test_the_claims_above_include_a_true_and_a_false_one():
    verdicts = {np.allclose(central_differences(f, VALUES[wrt]), claimed(VALUES), atol=1e-6)
                for _, f, wrt, _, claimed in CASES}
    assert verdicts == {True, False}


def _one_error_line(result) -> str:
    assert result.exit_code == 2
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def test_a_name_without_a_shape_is_one_line_naming_it():
    line = _one_error_line(run("sum(square(W @ x - y))", "--shape", "W=n,m", "--shape", "x=m,1", "--wrt", "W",
                               "--claim", "W"))
    assert "'y'" in line and "--shape" in line
    text = "sum(square(W @ x - y))"
    assert f"expression:1:{text.index('y') + 1}:" in line


@pytest.mark.parametrize("args, words", [
    (("sum(W @ x)", "--shape", "W=n,m", "--shape", "x=m,1", "--wrt", "V", "--claim", "W"), "--wrt V"),
    (("sum(W @ x)", "--wrt", "W", "--claim", "W"), "--shape"),
    (("sum(W @ x)", "--shape", "W=n", "--shape", "x=m,1", "--wrt", "W", "--claim", "W"), "NAME=ROWS,COLS"),
    (("2.1", "--shape", "W=n,m", "--wrt", "x", "--claim", "W"), "names its own variables"),
    (("sum(W @ x", "--shape", "W=n,m", "--shape", "x=m,1", "--wrt", "W", "--claim", "W"), "expression:1:4:"),
])
def test_bad_expression_input_is_one_line_and_exit_2(args, words):
    assert words in _one_error_line(run(*args))


# ----- the identities' own names -----
#: each identity of §2: its variable, as the notes' LaTeX writes it, and a claim
IDENTITY_CLAIMS = {"2.1": ("x", "W"), "2.2": ("x", "W.T"), "2.3": ("x", "eye(n)"), "2.4": ("x", "diag(f_prime(x))"),
                   "2.5": ("W", "delta.T @ x.T"), "2.6": ("W", "x.T @ delta"), "2.7": (r"\theta", "(yhat - y).T")}
PRINTED = {r"\theta": "θ"}


def _stated_output(section: str, variable: str) -> str:
    """What the notes' section differentiates by ``variable``: the A of its first ∂A/∂variable."""
    text = NOTES.read_text(encoding="utf-8").split(f"### {section} ", 1)[1].split("\n### ", 1)[0]
    found = re.findall(r"\\frac\{\\partial ([^}]*)\}\{\\partial ([^}]*)\}", text)
    return next(a for a, b in found if b.strip() == variable)


@pytest.mark.parametrize("section", sorted(IDENTITY_CLAIMS))
def test_an_identity_verdict_names_the_identitys_output(section):
    variable, claim = IDENTITY_CLAIMS[section]
    wrt = variable.lstrip("\\")
    result = run(section, "--wrt", wrt, "--claim", claim)
    label = f"∂{_stated_output(section, variable)}/∂{PRINTED.get(variable, variable)}"
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"holds: {label} = {claim}"), result.stdout


def test_the_notes_name_z_for_the_jacobians_and_j_for_the_losses():
    assert [_stated_output(s, IDENTITY_CLAIMS[s][0]) for s in sorted(IDENTITY_CLAIMS)] == ["z"] * 4 + ["J"] * 3


# ----- columns -----
#: (target, claim, the character at fault and which of its kind it is, from 1; None: the end of the claim)
FAULTS = [
    ("derivations/one_layer.toml", "delta2.T @@ x", ("@", 2)),
    ("2.1", "W @@ x", ("@", 2)),
    ("2.1", "W @ x +", None),
    ("2.1", "W )", (")", 1)),
    ("2.1", "x.U", ("U", 1)),
    ("2.1", "W.T @ x", ("@", 1)),  # a product whose sizes do not fit (W is n×m, x m×1): at its @
    ("2.1", r"W + \foo", ("\\", 1)),
    ("2.1", r"W^T \frac{x", ("{", 1)),
    ("2.1", r"W^T x^T }", ("}", 1)),
    ("2.1", r"W \; &", ("&", 1)),
]


def _column(claim: str, fault) -> int:
    """The 1-based column of the n-th such character of the claim (or one past its end)."""
    if fault is None:
        return len(claim) + 1
    char, nth = fault
    at = -1
    for _ in range(nth):
        at = claim.index(char, at + 1)
    return at + 1


def _where(line: str) -> tuple[int, int]:
    m = re.match(r"error: claim:(\d+):(\d+): ", line)
    assert m, line
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("target, claim, fault", FAULTS, ids=[c for _, c, _ in FAULTS])
def test_a_claim_error_names_the_1_based_column_of_the_character_at_fault(target, claim, fault):
    line = _one_error_line(run(target, "--wrt", "W" if target.endswith(".toml") else "x", "--claim", claim))
    assert _where(line) == (1, _column(claim, fault)), line


@pytest.mark.parametrize("claim, line, column", [("W\n@@ x", 2, 1), ("(W\n @ W)", 2, 2), ("W^T\n x^T }", 2, 6)])
def test_a_claim_on_several_lines_names_the_line_and_its_column(claim, line, column):
    where = _where(_one_error_line(run("2.1", "--wrt", "x", "--claim", claim)))
    assert where == (line, column)
    assert claim.splitlines()[line - 1][column - 1] in "@}"
