"""A seeded fuzz campaign: every input ends in a result or a one-line JacobianSymError, within 30 s,
and no input runs code (each injection tries to create a sentinel file; it must never exist)."""

import contextlib
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.claims.syntax import parse_claim
from jacobian_sym.cli import cli
from jacobian_sym.documents import model_files

MODELS = model_files()
SEED = 20261127


@contextlib.contextmanager
def at_most(seconds, what):
    def stop(*_):
        raise TimeoutError(f"{what!r} ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _payloads(sentinel):
    touch = f"__import__('pathlib').Path({str(sentinel)!r}).touch()"
    return [
        touch, f"({touch})", "x.__class__", "x.__class__.__bases__", "(lambda: 0)()", "[a for a in x]",
        "{a: a for a in x}", 'f"{x}"', "(y := x)", "x[0]", "x.T.T.real", "getattr(x, 'T')", "open('/etc/passwd')",
        "globals()", "sigmoid(" * 200 + "x" + ")" * 200, "9" * 5000, "1e999", "-1e999", "x ** 2", "x if x else x",
        "__builtins__", "x; y", "x\ny", "²", "x²", "١٢", "oo", "nan", "zoo", "x / 0", "0 * x / 0",
    ]


def _expect_clean(run, what):
    """``run()`` returns or raises a JacobianSymError with a one-line message, within 30 s."""
    with at_most(30, what):
        try:
            return run()
        except js.JacobianSymError as err:
            assert "\n" not in str(err), f"{what!r}: a multi-line message {err!s}"
            return None


def _mutations(text, rng, count):
    tokens = text.replace("\n", " \n ").split(" ")
    for _ in range(count):
        kind = rng.integers(0, 4)
        if kind == 0:  # byte flips
            data = bytearray(text.encode())
            for _ in range(int(rng.integers(1, 4))):
                data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
            yield data.decode("utf-8", errors="replace")
        elif kind == 1:  # a token deleted
            t = list(tokens)
            del t[int(rng.integers(0, len(t)))]
            yield " ".join(t).replace(" \n ", "\n")
        elif kind == 2:  # two tokens swapped
            t = list(tokens)
            a, b = rng.integers(0, len(t), 2)
            t[a], t[b] = t[b], t[a]
            yield " ".join(t).replace(" \n ", "\n")
        else:  # a line duplicated
            lines = text.splitlines()
            n = int(rng.integers(0, len(lines)))
            yield "\n".join(lines[:n] + [lines[n]] + lines[n:])


def _through_paths(text, deep):
    model = js.Model.parse(text, source="fuzz.toml")
    bp = js.backprop(model)
    bp.latex(standalone=True)
    if deep:
        js.codegen(bp)
    return bp


@pytest.mark.parametrize("per_model", [pytest.param(8, id="sample"),
                                       pytest.param(24, id="all", marks=pytest.mark.exhaustive)])
def test_mutated_model_files(tmp_path, per_model):
    rng = np.random.default_rng(SEED)
    n = 0
    for path in MODELS:
        for text in _mutations(path.read_text(), rng, per_model):
            n += 1
            _expect_clean(lambda text=text, deep=n % 8 == 0: _through_paths(text, deep), text)
    assert n == per_model * len(MODELS)


BASE = """title = "fuzz"
[inputs]
x = ["m", 1]
[params]
W = ["n", "m"]
[forward]
z = "W @ x"
J = "{line}"
"""


def test_forward_lines_with_injections_run_nothing(tmp_path):
    sentinel = tmp_path / "ran"
    for payload in _payloads(sentinel):
        for line in (payload, f"sum({payload})", f"sum(W @ x) + {payload}"):
            text = BASE.replace("{line}", line.replace("\\", "\\\\").replace('"', '\\"'))
            _expect_clean(lambda text=text: _through_paths(text, deep=True), line)
    assert not sentinel.exists(), "an injected forward line ran code"


NAMES = ["class", "None", "True", "lambda", "print", "open", "np", "check", "InputError", "SPEC", "_check", "extra",
         "arrays", "delta1", "delta_2", "Delta_1", "J", "t1", "log_yhat", "é", "x²", "a-b", "a b", "", "__init__",
         "W" * 70, "B", "e", "E", "pi", "numpy", "sympy", "self", "__import__"]


@pytest.mark.parametrize("name", NAMES)
def test_names_are_valid_identifiers_or_refused(name):
    """A name a kernel would mis-handle is refused; every accepted one gives a kernel that passes its
    own check (loss and gradients against the forward pass)."""
    text = (f'[inputs]\nx = ["m", 1]\n[params]\n"{name}" = ["n", "m"]\nb = ["n", 1]\n[forward]\n'
            f'z = "{name} @ x + b"\nJ = "sum(sigmoid(z))"\n')

    def run():
        bp = js.backprop(js.Model.parse(text, source="names.toml"))
        js.kernel(bp)  # refused inside unless it is right
        return bp

    _expect_clean(run, name)


TITLES = ['x"""\nimport os; os.system("touch {s}")\n"""', "'''; __import__('os').system('touch {s}') #",
          "\\\\", "^^5cinput{/etc/passwd}", "line\n\\input{/etc/passwd}", "$x$ & # % _ { } ~ ^", "\x00null",
          "\u202eevil", "<script>alert(1)</script>", "**bold** [link](http://x)", "é ü ∂J/∂W", "T" * 300]


@pytest.mark.parametrize("title", TITLES)
def test_titles_cannot_break_out(title, tmp_path):
    sentinel = tmp_path / "ran"
    title = title.replace("{s}", str(sentinel))
    text = f'title = {title!r}\n[inputs]\nx = ["m", 1]\n[params]\nW = ["n", "m"]\n[forward]\nJ = "sum(W @ x)"\n'
    text = text.replace("\\x00", "\\u0000")  # TOML's own escape for the NUL test

    def run():
        bp = js.backprop(js.Model.parse(text, source="title.toml"))
        source = js.codegen(bp)
        module = js.kernel(bp).module
        assert module.TITLE == bp.model.title  # the title is data, never code
        tex = bp.latex(standalone=True)
        assert "^^" not in tex and "\\input" not in tex  # TeX reads ^^5c as a backslash
        md = bp._repr_latex_()
        assert "\\input" not in md.replace("\\\\", "")  # every backslash of the title is escaped
        return source

    _expect_clean(run, title)
    assert not sentinel.exists()


@pytest.fixture(scope="module")
def one_layer():
    return js.backprop(js.Model.from_toml("derivations/one_layer.toml"))


def test_claims_with_injections(one_layer, tmp_path):
    sentinel = tmp_path / "ran"
    names = {n.name: one_layer.graph.symbol(n) for n in one_layer.graph.nodes if n.name}
    rng = np.random.default_rng(SEED)
    claims = _payloads(sentinel) + ["delta2.T @ x.T", r"\delta_2^T x^T", "1 - sigmoid(z)", "sum(x, axis=2)",
                                    "ones(D_h, 1) @ x.T", "sum(x, axis=True)", r"\frac{1}{0} x", "x / x",
                                    "sigmoid(" * 20 + "z" + ")" * 20 + " @ x.T"]
    alphabet = list("xWzUyb12+-*/@().T ^_\\{}") + ["delta2", "sigmoid(", "relu_prime(", r"\circ", "sum("]
    for _ in range(150):
        claims.append("".join(rng.choice(alphabet, size=int(rng.integers(1, 12)))))
    for claim in claims:
        _expect_clean(lambda claim=claim: parse_claim(claim, names), claim)
    deep = "sigmoid(" * 20 + "z" + ")" * 20 + " @ x.T"  # ran for minutes in SymPy's simplify and evalf
    for claim in claims[:8] + [deep] + claims[-3:]:
        _expect_clean(lambda claim=claim: js.check(one_layer, "W", claim), claim)
    assert not sentinel.exists()


def test_kernel_inputs(one_layer):
    f = js.kernel(one_layer)
    rng = np.random.default_rng(SEED)
    good = {"x": rng.normal(size=(4, 3)), "W": rng.normal(size=(5, 4)), "b1": rng.normal(size=(5, 1)),
            "U": rng.normal(size=(2, 5)), "b2": rng.normal(size=(2, 1)), "y": np.eye(2)[:, [0, 1, 1]]}
    assert np.isfinite(f(**good)["J"])
    bad = []
    for name in good:
        a = good[name]
        for variant in (np.full_like(a, np.nan), np.full_like(a, np.inf), a.astype(np.int64), a.astype(np.float16),
                        a.astype(np.complex128), a.astype(object), a.reshape(-1), a[:, :0], a.tolist(), None):
            bad.append({**good, name: variant})
    bad += [{k: v for k, v in good.items() if k != "W"}, {**good, "extra": good["W"]},
            {**good, "y": good["y"] * 0.5}, {**good, "x": rng.normal(size=(3, 4))}]
    # an infinite input is refused after the forward pass has run on it (∞ − ∞ there): NumPy warns
    with pytest.warns(RuntimeWarning, match="invalid value"):
        for arrays in bad:
            try:
                out = f(**arrays)
            except js.KernelInputError as err:
                assert "\n" not in str(err)
                continue
            assert all(np.all(np.isfinite(v)) for v in out.values()), "a result with non-finite values"
    # views that are not contiguous are fine, and give the same numbers
    views = {**good, "W": np.asfortranarray(good["W"]), "x": np.ascontiguousarray(good["x"].T).T}
    assert np.allclose(f(**views)["W"], f(**good)["W"])


@pytest.mark.parametrize("args", [
    ["derive", "2.5", "--wrt", "x", "--shape", "x=n"], ["derive", "x @", "--shape", "x=n,1", "--wrt", "x"],
    ["derive", "sum(x)", "--shape", "x=²,1", "--wrt", "x"], ["derive", "nosuch.toml"],
    ["codegen", "derivations/one_layer.toml", "-o", "/no/such/folder/k.py"],
    ["bench", "derivations/one_layer.toml", "--size", "D_x=99999999", "--size", "D_h=99999999"],
    ["bench", "derivations/one_layer.toml", "--size", "Q=3"], ["check", "derivations/one_layer.toml", "--wrt", "W",
                                                               "--claim", "__import__('os')"],
    ["render", "--folder", "/no/such/folder"], ["verify", "2.5", "nosuch"],
])
def test_cli_bad_input_is_one_line_and_exit_2(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


# ----- issue 27's classes: batches that mix examples, towers, files that are no files, names, outputs -----

_MIXING = ["norm({h})", "log(sum(exp({h})))", "sum(square({h})) * sum({h})", "sum(softmax({h}, axis=1) * {h})",
           "sum(mean({h}, axis=1) * {h})", "sum(layer_norm({h}, axis=1) * {h})", "sum(square({h})) + sum(square(W))",
           "sum(square({h}))", "mse(y, {h})", "sum(softmax({h}, axis=0) * {h})"]


def test_issue_27_classes_are_right_or_refused(tmp_path):
    """Seeded: a batch is the sum of its examples or refused in one line; a power tower, a document
    that is a link to /dev/zero, a folder or a FIFO, a bad shape, a file name that shadows a global
    and -o onto /dev/null each end in a result or a one-line error within 30 s."""
    rng = np.random.default_rng(SEED)
    for k, loss in enumerate(_MIXING):
        act = ["tanh", "silu", "sigmoid", "relu"][k % 4]
        text = ("title = 't'\n[inputs]\nx = ['n', 1]\ny = ['m', 1]\n[params]\nW = ['m', 'n']\n[forward]\n"
                f"z = 'W @ x'\nh = '{act}(z)'\nJ = '{loss.format(h='h')}'\n[gradients]\nwrt = ['W']\n")
        if "y," not in loss:
            text = text.replace("y = ['m', 1]\n", "")
        f = _expect_clean(lambda text=text: js.kernel(js.backprop(js.Model.parse(text))), loss)
        arrays = {"x": rng.normal(size=(3, 4)), "W": rng.normal(size=(2, 3))}
        if "y," in loss:
            arrays["y"] = rng.normal(size=(2, 4))
        out = _expect_clean(lambda f=f, arrays=arrays: f(**arrays), loss)
        if out is not None:
            ones = [f(**{n: a[:, [e]] if n in ("x", "y") else a for n, a in arrays.items()}) for e in range(4)]
            assert np.allclose(out["W"], sum(o["W"] for o in ones), rtol=1e-9, atol=1e-12), loss
            assert np.isclose(out["J"], sum(o["J"] for o in ones), rtol=1e-9), loss
    zero, folder, fifo = tmp_path / "zero.md", tmp_path / "folder.md", tmp_path / "fifo.md"
    zero.symlink_to("/dev/zero")
    folder.mkdir()
    os.mkfifo(fifo)
    documents = [str(zero), str(folder), str(fifo), "Let $x \\in \\mathbb{R}^{n}$. $y = 2^{2^{2^{2^{2^{2^2}}}}} x$.\n",
                 "Let $x \\in \\mathbb{R}^{n}$. $y = 10^{99999999999} x$.\n"]
    for doc in documents:
        _expect_clean(lambda doc=doc: js.audit(doc), doc[:40])
    for shape in [("n",), (0, 1), (-3, 1), ("99999999999999999999", 1)]:
        _expect_clean(lambda shape=shape: js.audit(documents[-1], shapes={"x": shape}), repr(shape))
    for stem in ["np", "type", "len"]:
        path = tmp_path / f"{stem}.toml"
        path.write_text("title = 't'\n[inputs]\nx = ['n', 1]\n[params]\nW = ['m', 'n']\n[forward]\n"
                        "J = 'sum(square(W @ x))'\n")
        f = js.kernel(js.backprop(js.Model.from_toml(path)))
        assert np.isfinite(f(x=np.ones((3, 2)), W=np.ones((2, 3)))["J"])
    result = CliRunner().invoke(cli, ["codegen", "derivations/one_layer.toml", "-o", "/dev/null"])
    assert result.exit_code == 0 and Path("/dev/null").is_char_device(), result.output


# ----- issue 27, item 3: readers with bounds (claims, LaTeX, context definitions, document math) -----

_WRAPS = [("(", ")"), ("sigmoid(", ")"), ("\\frac{1}{", "}"), ("{", "}"), ("\\left(", "\\right)"), ("\\sqrt{", "}"),
          ("x^{", "}"), ("-", ""), ("x + ", ""), ("", ".T"), ("\\sigma(", ")"), ("2 ", "^T")]


def test_nested_and_long_text_ends_in_a_result_or_a_one_line_error(tmp_path):
    """Seeded: text nested or chained to a random depth (inside the limits, at them and far past them)
    is read, or refused in one line, by every reader — never a RecursionError or a hang."""
    from jacobian_sym.claims import latex
    rng = np.random.default_rng(SEED + 27)
    x = js.vector("x", "n")
    for _ in range(16):
        text = "x"
        for _ in range(int(rng.choice([1, 20, 59, 61, 130, 700]))):
            left, right = _WRAPS[int(rng.integers(0, len(_WRAPS)))]
            text = left + text + right
        _expect_clean(lambda t=text: js.check(js.sum(js.square(x)), x, t), text[:40])
        _expect_clean(lambda t=text: latex.read(t), text[:40])
        context = tmp_path / "c.toml"
        context.write_text(f"[all]\nf = '{text}'\n")  # (a TOML literal string: the backslashes as they are)
        doc = "# S\n\nLet $x \\in \\mathbb{R}^{n}$.\n\n$$ y = " + text + " = x $$\n"
        _expect_clean(lambda d=doc: js.audit(d), doc[:40])
        _expect_clean(lambda d=doc, c=str(context): js.audit(d, context=c), doc[:40])


# ----- issue 27, item 2: cost limits before work -----

def test_costly_inputs_end_in_a_result_or_a_one_line_error():
    """Seeded: literal sizes in a document (up to 10^8 rows), layer norms nested in one line and a
    Hessian at a literal size each end in a result or a one-line error naming a limit."""
    rng = np.random.default_rng(SEED + 2)
    for rows in rng.choice([3, 4, 100_000, 10**8], size=3, replace=False):
        doc = (f"# S\n\nLet $W \\in \\mathbb{{R}}^{{{rows} \\times 3}}$ and $x \\in \\mathbb{{R}}^{{3}}$.\n\n"
               "$$ \\frac{\\partial}{\\partial x} \\lVert W x \\rVert^2 = 2 x^T W^T W $$\n")
        report = _expect_clean(lambda d=doc: js.audit(d), f"rows {rows}")
        assert report is not None and [link.verdict for link in report.links] in (["holds"], ["not decidable"])
    for depth in rng.choice([1, 2, 8, 12], size=2, replace=False):
        inner = "W @ x"
        for _ in range(int(depth)):
            inner = f"layer_norm({inner}, axis=0)"
        text = (f"title = 't'\n[inputs]\nx = ['n', 1]\n[params]\nW = ['n', 'n']\n[forward]\n"
                f"J = 'sum(square({inner}))'\n")
        _expect_clean(lambda t=text: js.backprop(js.Model.parse(t)), f"depth {depth}")
    x, W = js.vector("x", 5000), js.matrix("W", 2, 5000)
    _expect_clean(lambda: js.hessian(js.sum(js.square(js.tanh(W @ x))), x), "hessian at 5000")
