"""Hostile and unusual input (issue 27, items 2–6): each case is refused in one line with a
``JacobianSymError`` naming the problem, or handled right; none is computed on the wrong terms."""

import os
import stat
import threading
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

import jacobian_sym as js
from jacobian_sym.errors import JacobianSymError, ParseError
from jacobian_sym.ops.table import OPS

MODEL = "title = 't'\n[inputs]\nx = ['n', 1]\n[params]\nW = ['m', 'n']\n[forward]\nJ = 'sum(square(W @ x))'\n"


# ----- 4. generated names -----

@pytest.mark.parametrize("stem", ["np", "type", "len", "float", "class", "check", "isinstance", "numpy"])
def test_a_file_name_never_shadows_the_modules_globals(stem, tmp_path):
    path = tmp_path / f"{stem}.toml"
    path.write_text(MODEL)
    f = js.kernel(js.backprop(js.Model.from_toml(path)))
    assert f.name.startswith("model_")
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(3, 2)), rng.normal(size=(2, 3))
    assert np.isclose(f(x=x, W=W)["J"], np.sum((W @ x) ** 2))
    assert f"def {f.name}(" in js.codegen(js.backprop(js.Model.from_toml(path)))


def test_a_plain_file_name_is_kept(tmp_path):
    path = tmp_path / "one_layer.toml"
    path.write_text(MODEL)
    assert js.kernel(js.backprop(js.Model.from_toml(path))).name == "one_layer"


@pytest.mark.parametrize("size", ["np", "check", "delta1", "delta_2", "lambda", "2*np + 1"])
def test_reserved_size_names_are_refused(size):
    with pytest.raises(ParseError, match="size name|reserved|keyword|kernels use"):
        js.Model.parse(MODEL.replace("x = ['n', 1]", f"x = ['{size}', 1]").replace("['m', 'n']", f"['m', '{size}']"))


# ----- 3. readers: small ones -----

def test_gradients_must_be_a_table():
    with pytest.raises(ParseError, match=r"\[gradients\] must be a table"):
        js.Model.parse("gradients = 1\n" + MODEL)


@pytest.mark.parametrize("line", ["J = 'sum(softmax(W @ x, axis=1, axis=0))'",
                                  "J = 'sum(layer_norm(W @ x, axis=0, axis=0))'"])
def test_a_repeated_keyword_is_refused(line):
    with pytest.raises(ParseError, match="given twice"):
        js.Model.parse(MODEL.replace("J = 'sum(square(W @ x))'", line))


# ----- 5. outputs -----

def test_an_output_onto_a_character_device_writes_through():
    from jacobian_sym.base.files import write_atomic
    write_atomic("/dev/null", "text")
    assert Path("/dev/null").is_char_device()


def test_an_output_onto_a_fifo_writes_through_and_keeps_the_fifo(tmp_path):
    from jacobian_sym.base.files import write_atomic
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_atomic(fifo, "through the pipe")
    reader.join(10)
    assert got == ["through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_output_onto_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    from jacobian_sym.base.files import write_atomic
    target = tmp_path / "real.tex"
    target.write_text("old")
    link = tmp_path / "link.tex"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new" and link.read_text() == "new"


def test_the_cli_writes_through_a_symlink(tmp_path):
    from click.testing import CliRunner

    from jacobian_sym.cli import cli
    target = tmp_path / "real.tex"
    target.write_text("old")
    link = tmp_path / "out.tex"
    link.symlink_to(target)
    result = CliRunner().invoke(cli, ["derive", "2.1", "-o", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and target.read_text() != "old"


# ----- 6. numerics -----

ELEMENTWISE = sorted(n for n, op in OPS.items() if op.kind == "elementwise")


def _truth(name, value):
    """f(s) and f′(s) at s = value, to 60 digits (mpmath), from the op's scalar definition; None where
    f is not real there (√ of a negative number)."""
    form = OPS[name].function.form
    (s,) = form.free_symbols
    step = lambda e: sp.Piecewise((1, e.args[0] > 0), (0, True))  # noqa: E731 (ReLU′(0) = 0)
    d = sp.diff(form, s).replace(lambda e: isinstance(e, sp.Heaviside), step)
    d = d.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))  # step′ = 0 away from 0
    with mpmath.workdps(60):
        f, df = (complex(sp.lambdify(s, e, "mpmath")(mpmath.mpf(value))) for e in (form, d))
    return (f, df) if f.imag == 0 and df.imag == 0 else None


@pytest.mark.parametrize("dtype, bound", [(np.float64, 800), (np.float32, 100)])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_each_elementwise_derivative_is_finite_in_both_tails(name, dtype, bound):
    """At ±800 (float64) and ±100 (float32) the kernel's f′ is finite and right wherever the loss is
    finite; where the loss is not, the kernel says so (it never returns a NaN gradient)."""
    model = js.Model.parse(f"title = 't'\n[inputs]\nx = ['n', 1]\n[forward]\nJ = 'sum({name}(x))'\n"
                           "[gradients]\nwrt = ['x']\n")
    f = js.kernel(js.backprop(model))
    big = float(np.finfo(dtype).max)
    for value in (bound, -bound):
        truth = _truth(name, value)
        finite = truth is not None and abs(truth[0].real) < big and truth[0].imag == 0
        x = np.array([[value]], dtype=dtype)
        with np.errstate(all="ignore"):  # (NumPy's overflow warnings: the values are what is tested)
            _check_tail(f, x, finite, truth, big, name, value, dtype)


def _check_tail(f, x, finite, truth, big, name, value, dtype):
    if not finite:
        with pytest.raises(js.errors.JacobianSymError, match="not finite"):
            f(x=x)
        return
    try:
        out = f(x=x)
    except js.errors.JacobianSymError as err:  # f finite but f′ beyond the dtype (exp′ = exp): said so
        assert "gradient for x is not finite" in str(err) and abs(truth[1].real) >= big, (name, value, err)
        return
    got, want = float(out["x"][0, 0]), truth[1].real
    assert np.isfinite(got), (name, value, got)
    tol = 1e-9 if dtype == np.float64 else 1e-4
    assert abs(got - want) <= tol * max(1.0, abs(want)), (name, value, got, want)


def test_a_gradient_that_overflows_is_named():
    """The non-finite check covers gradients, not only the loss: √′ at 0 is infinite while √0 is 0."""
    model = js.Model.parse("title = 't'\n[inputs]\nx = ['n', 1]\n[forward]\nJ = 'sum(sqrt(x))'\n"
                           "[gradients]\nwrt = ['x']\n")
    f = js.kernel(js.backprop(model))
    with np.errstate(divide="ignore"), pytest.raises(js.errors.JacobianSymError, match="gradient for x is not finite"):
        f(x=np.array([[0.0], [1.0]]))
    assert np.isfinite(f(x=np.array([[0.5], [1.0]]))["x"]).all()


# ----- 3. shapes given by a caller -----

@pytest.mark.parametrize("shape", [("n",), (0, 1), (-3, 1), 5, ("99999999999999999999", 1), ("²", 1)])
def test_the_audits_shapes_are_checked_before_any_work(shape, tmp_path):
    from jacobian_sym.audit.driver import audit
    doc = tmp_path / "d.md"
    doc.write_text("Let $W \\in \\mathbb{R}^{n \\times 1}$. "
                   "Then $\\frac{\\partial}{\\partial W} \\mathrm{sum}(W) = 1$.\n")
    with pytest.raises(js.errors.ShapeError, match="shapes\\['W'\\]"):
        audit(str(doc), shapes={"W": shape})


@pytest.mark.parametrize("spec", ["W=0,1", "W=-3,1", "W=99999999999999999999,1", "W=²,1"])
def test_a_bad_shape_on_the_command_line_is_bad_input(spec):
    from click.testing import CliRunner

    from jacobian_sym.cli import cli
    result = CliRunner().invoke(cli, ["derive", "sum(W @ x)", "--shape", spec, "--shape", "x=1,1", "--wrt", "W"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output


# ----- 3. files read with a cap -----

@pytest.mark.parametrize("kind", ["zero", "folder", "fifo"])
def test_a_document_that_is_no_regular_file_is_refused_before_reading(kind, tmp_path):
    from jacobian_sym.audit.driver import audit
    path = tmp_path / "doc.md"
    if kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)  # (opening it to read would wait for a writer forever)
    with pytest.raises(JacobianSymError, match="not a regular file"):
        audit(str(path))


def test_a_document_past_the_size_cap_is_refused(tmp_path):
    from jacobian_sym.base.files import read_text_capped
    path = tmp_path / "big.md"
    path.write_text("x" * 2000)
    with pytest.raises(JacobianSymError, match="larger than"):
        read_text_capped(path, "document", limit=1000)


@pytest.mark.parametrize("what", ["model", "context"])
def test_a_file_that_is_not_utf8_is_refused_in_one_line(what, tmp_path):
    from jacobian_sym.audit.driver import audit
    path = tmp_path / f"bad.{'toml' if what == 'model' else 'context.toml'}"
    path.write_bytes(b"title = '\xff\xfe'\n")
    with pytest.raises(JacobianSymError, match="not UTF-8 text"):
        if what == "model":
            js.Model.from_toml(path)
        else:
            audit("Some text $x = 1$.\n", context=str(path))


# ----- 2. cost limits before work -----

@pytest.mark.parametrize("power", ["2^{2^{2^{2^{2^{2^2}}}}}", "10^{99999999999}", "10^{" + "9" * 5000 + "}"])
def test_a_power_of_numbers_beyond_float_is_refused_by_the_reader(power):
    from jacobian_sym.claims.latex import read
    with pytest.raises(JacobianSymError, match="beyond 10\\^300|more than 40 digits"):
        read(f"{power} x")


def test_a_small_power_of_numbers_is_read():
    from jacobian_sym.claims.latex import read
    assert "pow" in repr(read("2^{3} x"))  # read, not refused
