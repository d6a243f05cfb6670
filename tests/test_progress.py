"""Progress lines: one line rewritten in place on a terminal, nothing at all on anything else."""

import io
from pathlib import Path

from click.testing import CliRunner

from jacobian_sym.base.progress import Progress
from jacobian_sym.cli import cli

ROOT = Path(__file__).resolve().parent.parent


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_sees_one_line_rewritten_in_place_then_cleared():
    screen = Terminal()
    with Progress("render", screen) as progress:
        progress(0, 24, "attention.toml")
        progress(7, 24, "glu.toml")
    written = screen.getvalue()
    assert written.split("\r")[1:3] == ["render: 0/24 attention.toml", "render: 7/24 glu.toml      "]
    assert "\n" not in written
    final = written.split("\r")[-2]  # what is left on the line: blanks, then the cursor at the margin
    assert final.strip() == "" and written.endswith("\r")


def test_a_file_or_a_pipe_gets_nothing():
    stream = io.StringIO()
    with Progress("render", stream) as progress:
        progress(3, 24, "glu.toml")
    assert stream.getvalue() == ""


def test_the_audit_verb_writes_no_progress_into_redirected_output(tmp_path):
    doc = tmp_path / "a.md"
    doc.write_text("Let $x$ be a number.\n\n$$ (x + 1)^2 = x^2 + 2x + 1 $$\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["audit", str(doc)])
    assert "\r" not in result.output and "/1 line" not in result.output
    assert "links found" in result.output


def test_the_audit_reports_each_statement_before_deciding_it(tmp_path):
    from jacobian_sym.audit.driver import audit

    doc = tmp_path / "a.md"
    doc.write_text("Let $x$ be a number.\n\n$$ (x + 1)^2 = x^2 + 2x + 1 $$\n\n$$ x + x = 2x $$\n", encoding="utf-8")
    calls = []
    audit(doc, progress=lambda done, total, what: calls.append((done, total, what)))
    assert [c[0] for c in calls] == list(range(len(calls))) and calls
    assert {c[1] for c in calls} == {len(calls)}
    assert all(what.startswith("line ") for _, _, what in calls)


def test_render_reports_each_model_file_then_the_end(tmp_path):
    from jacobian_sym.documents import expected

    for name in ("logistic.toml", "row_softmax.toml"):
        (tmp_path / name).write_text((ROOT / "derivations" / name).read_text(encoding="utf-8"), encoding="utf-8")
    calls = []
    expected(tmp_path, lambda done, total, what="": calls.append((done, total, what)))
    assert calls == [(0, 2, "logistic.toml"), (1, 2, "row_softmax.toml"), (2, 2, "")]
    assert expected(tmp_path).keys() == {tmp_path / f"{n}.{s}" for n in ("logistic", "row_softmax")
                                         for s in ("tex", "md")}


def test_the_check_verb_writes_no_progress_into_redirected_output():
    result = CliRunner().invoke(cli, ["check", str(ROOT / "derivations/one_layer.toml"), "--wrt", "W",
                                      "--claim", "delta2.T @ x.T"])
    assert result.exit_code == 0 and result.output.startswith("holds: ∂J/∂W") and "\r" not in result.output
