"""The ``jacobian-sym`` command line: parse arguments, call the API, echo. No logic lives here."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from jacobian_sym.errors import JacobianSymError

FORMATS = ("latex", "markdown", "text")
LAYOUTS = ("numerator", "denominator")


class _Group(click.Group):
    """Turns a JacobianSymError, an unwritable file and a closed output pipe into one line on stderr and
    exit code 2 (click alone would exit 1 on a closed pipe)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except JacobianSymError as err:
            _fail(str(err))
        except BrokenPipeError:
            _closed_pipe()
        except OSError as err:  # an output file that cannot be written
            _fail(f"cannot write {err.filename}: {err.strerror}" if err.filename else str(err))


def _fail(message: str):
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _closed_pipe():
    """The reader went away (| head): say so once, and keep Python from failing again on exit when it
    flushes stdout."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    _fail("the output pipe was closed before everything was written")


def _progress(message: str) -> None:
    """A progress line on stderr, only when a person is watching it (a terminal): free otherwise."""
    if sys.stderr.isatty():
        click.echo(message, err=True)


def _writable(path: str | None, option: str) -> None:
    """Refuse an output path whose folder does not exist, before any work is done."""
    if path and path != "-":
        folder = Path(path).expanduser().resolve().parent
        if not folder.is_dir():
            raise JacobianSymError(f"{option} {path}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise JacobianSymError(f"{option} {path}: the folder {folder} is not writable")


def _write(output: str, text: str) -> None:
    """Write ``text`` to stdout ('-') or to the file ``output``, whole or not at all: the text goes to a
    temporary file beside it that replaces the file only when complete, so a failed command never
    leaves a truncated or half-written file."""
    if output == "-":
        click.echo(text, nl=False)
        return
    from jacobian_sym.base.files import write_atomic

    write_atomic(Path(output), text)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jacobian_sym", prog_name="jacobian-sym")
def cli():
    """Symbolic derivations of neural-network gradients, element by element.

    \b
    Examples:
      jacobian-sym list
      jacobian-sym derive 2.5
      jacobian-sym derive derivations/one_layer.toml --format markdown
      jacobian-sym derive "x.T @ A @ x" --shape x=n,1 --shape A=n,n --wrt x
      jacobian-sym derive "x.T @ A @ x" --shape x=n,1 --shape A=n,n --wrt x --hessian
      jacobian-sym verify 2.1 derivations/one_layer.toml
      jacobian-sym audit tests/audit/least_squares.md
      jacobian-sym render --check
    """


@cli.command("list")
@click.option("--models", "folder", default="derivations", show_default=True, help="Where to look for model files.")
def list_cmd(folder):
    """List the notes' identities and the model files found, one line each.

    \b
    Example:
      jacobian-sym list
    """
    from jacobian_sym.documents import model_files
    from jacobian_sym.models.model import Model
    from jacobian_sym.notes.identities import IDENTITIES

    if not Path(folder).is_dir():
        _fail(f"--models {folder}: no such folder")
    for section, identity in IDENTITIES.items():
        click.echo(f"{section:<12} {identity.title}")
    for path in model_files(folder):
        click.echo(f"{str(path):<12} {Model.from_toml(path).title}")


def _target(target, shapes, wrt, layout, second=None):
    """An identity number, a model file, or an expression over --shape variables; ``second`` asks for
    a second-order result: ("hessian",), ("hvp", V), ("kronecker",) or ("gauss-newton", W)."""
    from jacobian_sym.models.model import Model
    from jacobian_sym.proofs.guard import backprop, gradient, jacobian
    from jacobian_sym.proofs.guard import derive_identity as derive

    if target.endswith(".toml"):
        bp = backprop(Model.from_toml(target), layout=layout)
        if second is not None:
            from jacobian_sym.proofs.guard import gauss_newton

            return gauss_newton(bp, second[1])
        return bp
    if not shapes:
        return derive(target, layout=layout)
    names = _variables(shapes)
    node = _expression(target, names)
    if not wrt:
        raise JacobianSymError("an expression needs --wrt NAME (the variable to differentiate by)")
    variables = [v.strip() for v in wrt.split(",")]
    for v in variables:
        if v not in names:
            raise JacobianSymError(f"--wrt {v}: no --shape declares {v!r}")
    if second is not None:
        return _second_order(node, [names[v] for v in variables], second, names, layout)
    if len(variables) > 1:
        raise JacobianSymError("--wrt takes several variables (x,c) only with --hessian")
    if node.shape == (1, 1):
        return gradient(node, names[wrt], layout=layout)
    return jacobian(node.named("f"), names[wrt], layout=layout)


def _shapes(specs) -> dict:
    """--shape options NAME=ROWS,COLS as {name: (rows, cols)}; a size is a number (3) or a symbol (n)."""
    sizes = {}
    for spec in specs:
        name, sep, dims = spec.partition("=")
        parts = [p.strip() for p in dims.split(",")]
        if not sep or len(parts) != 2 or not all(parts) or not name.strip().isidentifier():
            raise JacobianSymError(f"--shape takes NAME=ROWS,COLS (e.g. W=n,m or x=n,1), not {spec!r}")
        sizes[name.strip()] = tuple(int(p) if p.isascii() and p.isdigit() else p for p in parts)  # not "²"
    return sizes


def _variables(specs) -> dict:
    """The variables the --shape options declare, as matrix nodes by name."""
    from jacobian_sym.graph import expr as E

    return {name: E.matrix(name, *shape) for name, shape in _shapes(specs).items()}


def _expression(text, names):
    """An expression TARGET over the --shape variables, read as a model file's forward line (no eval)."""
    from jacobian_sym.models.model import parse_expression

    return parse_expression(text, names, source="expression", line=1, col=1,
                            undefined="{0!r} has no --shape (add --shape {0}=ROWS,COLS)")


def _second_order(node, variables, second, names, layout):
    from jacobian_sym.graph import expr as E
    from jacobian_sym.proofs.guard import hessian, hvp

    kind = second[0]
    if kind == "hessian":
        return hessian(node, tuple(variables) if len(variables) > 1 else variables[0], layout=layout)
    if len(variables) > 1:
        raise JacobianSymError(f"--{kind} takes one variable in --wrt")
    (var,) = variables
    if kind == "kronecker":
        return hessian(node, var, layout=layout, kronecker=True)
    direction = second[1]
    V = names.get(direction) or E.matrix(direction, *var.shape)
    return hvp(node, var, V, layout=layout)


def _render(result, fmt, standalone):
    from jacobian_sym.render import compose as render

    if hasattr(result, "gradients"):
        if fmt == "latex":
            return render.render_backprop_latex(result, standalone=standalone)
        if fmt == "markdown":
            return render.render_backprop_markdown(result)
        return render.render_backprop_text(result) + "\n"
    if fmt == "latex":
        return render.render_latex(result, standalone=standalone)
    if fmt == "markdown":
        return render.render_markdown(result)
    return render.render_text(result) + "\n"


@cli.command()
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="latex", show_default=True,
              help="Output format.")
@click.option("--layout", type=click.Choice(LAYOUTS), default="numerator", show_default=True,
              help="numerator: the notes' layout (δ a row); denominator: δ a column.")
@click.option("--shape", "shapes", multiple=True, metavar="NAME=ROWS,COLS",
              help="A variable of an expression TARGET (repeatable), e.g. W=n,m or x=n,1.")
@click.option("--wrt", help="The variable to differentiate an expression TARGET by.")
@click.option("--hessian", is_flag=True, help="The Hessian by the --wrt vector(s) (x, or x,c for the blocks).")
@click.option("--hvp", metavar="V", help="The Hessian by the --wrt variable applied to the direction V (declared "
              "by --shape, or of the variable's shape).")
@click.option("--kronecker", is_flag=True, help="The Hessian by vec of a --wrt matrix, as Kronecker products.")
@click.option("--gauss-newton", "gauss_newton", metavar="VAR",
              help="For a model file: the Gauss–Newton product Jᵀ H J V in the variable VAR.")
@click.option("--standalone", is_flag=True, help="A complete LaTeX document.")
@click.option("--pdf", type=click.Path(dir_okay=False), help="Also compile the document to this PDF (pdflatex).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Where to write ('-': stdout); written only when the derivation succeeded.")
def derive(target, fmt, layout, shapes, wrt, hessian, hvp, kronecker, gauss_newton, standalone, pdf, output):
    """Derive TARGET and print the derivation.

    TARGET is an identity of the notes (2.5), a model file (derivations/one_layer.toml), or an
    expression with --shape options and --wrt.

    \b
    Examples:
      jacobian-sym derive 2.5 --standalone -o identity-2.5.tex
      jacobian-sym derive derivations/one_layer.toml --standalone --pdf one_layer.pdf
      jacobian-sym derive "sum(sigmoid(W @ x))" --shape W=n,m --shape x=m,1 --wrt W --format text
      jacobian-sym derive "x.T @ A @ x" --shape x=n,1 --shape A=n,n --wrt x --hessian
      jacobian-sym derive "sum(square(X @ W - Y))" --shape X=B,d --shape W=d,k --shape Y=B,k --wrt W --hvp V
      jacobian-sym derive derivations/one_layer.toml --gauss-newton W --format text
    """
    _writable(output, "-o")
    _writable(pdf, "--pdf")
    expression = not target.endswith(".toml") and bool(shapes)
    if not expression and (wrt or shapes):
        what = "a model file" if target.endswith(".toml") else "an identity of the notes"
        given = "--wrt" if wrt else "--shape"
        raise JacobianSymError(f"{given} applies to an expression TARGET; {target} is {what}, which names its own "
                               "variables")
    if standalone and fmt != "latex":
        raise JacobianSymError(f"--standalone makes a LaTeX document; it does not apply to --format {fmt}")
    asked = [flag for flag, on in (("--hessian", hessian), ("--hvp", hvp), ("--kronecker", kronecker),
                                   ("--gauss-newton", gauss_newton)) if on]
    if len(asked) > 1:
        raise JacobianSymError(f"{' and '.join(asked)}: ask for one second-order result at a time")
    if gauss_newton and not target.endswith(".toml"):
        raise JacobianSymError("--gauss-newton applies to a model file TARGET")
    if (hessian or hvp or kronecker) and not expression:
        raise JacobianSymError(f"{asked[0]} applies to an expression TARGET (with --shape and --wrt)")
    second = (("hessian",) if hessian else ("hvp", hvp) if hvp else ("kronecker",) if kronecker else
              ("gauss-newton", gauss_newton) if gauss_newton else None)
    result = _target(target, shapes, wrt, layout, second)
    text = _render(result, fmt, standalone)
    if pdf:
        from jacobian_sym.render.pdf import compile_pdf

        written = compile_pdf(_render(result, "latex", True), Path(pdf))
        click.echo(f"wrote the PDF to {Path(written).resolve()}", err=True)
    _write(output, text)


@cli.command()
@click.argument("targets", nargs=-1)
def verify(targets):
    """Run the proofs of each TARGET (identities and model files; default: all) and print a table.

    Exit code 1 if any proof fails, 3 if none fails but one could not decide (units never on).

    \b
    Example:
      jacobian-sym verify 2.5 2.7 derivations/one_layer.toml
    """
    from jacobian_sym.documents import model_files
    from jacobian_sym.proofs.verify import verify as run

    chosen = list(targets)
    if not chosen:
        from jacobian_sym.notes.identities import IDENTITIES

        chosen = list(IDENTITIES) + [str(p) for p in model_files()]
    failed = undecided = False
    for n, target in enumerate(chosen, 1):
        _progress(f"[{n}/{len(chosen)}] proving {target} …")
        report = run(_target(target, (), None, "numerator"))
        click.echo(str(report))
        failed |= report.ok is False
        undecided |= report.ok is None
    click.echo("FAIL" if failed else "UNDECIDED (no proof fails; some could not decide)" if undecided
               else "all proofs pass")
    sys.exit(1 if failed else 3 if undecided else 0)


@cli.command()
@click.option("--check", is_flag=True, help="Only check: exit 1 if a document is out of date.")
@click.option("--folder", default="derivations", show_default=True, help="The folder of model files.")
def render(check, folder):
    """Regenerate the .tex and .md documents in derivations/ from the model files and identities.

    \b
    Examples:
      jacobian-sym render
      jacobian-sym render --check
    """
    from jacobian_sym.documents import stale, write

    if not Path(folder).is_dir():
        raise JacobianSymError(f"--folder {folder}: no such folder")
    from jacobian_sym.base.progress import Progress

    if check:
        with Progress("render --check") as progress:
            out = stale(folder, progress)
        for path in out:
            click.echo(f"out of date: {path}")
        if out:
            click.echo("run 'jacobian-sym render' to regenerate", err=True)
            sys.exit(1)
        click.echo("all documents are up to date")
        return
    with Progress("render") as progress:
        written = write(folder, progress)
    for path in written:
        click.echo(f"wrote {path}")
    if not written:
        click.echo("all documents are up to date; nothing written")


@cli.command()
@click.argument("target")
@click.option("--wrt", required=True, help="The variable (or error signal, e.g. delta2) the claim differentiates by.")
@click.option("--claim", required=True, help='The claimed derivative: "delta2.T @ x.T" or LaTeX "\\delta_2^T x^T".')
@click.option("--shape", "shapes", multiple=True, metavar="NAME=ROWS,COLS",
              help="A variable of an expression TARGET (repeatable); sizes are numbers or symbols: W=3,2 or W=n,m.")
@click.option("--layout", type=click.Choice(LAYOUTS), default="numerator", show_default=True, help="The layout.")
def check(target, wrt, claim, shapes, layout):
    """Check a claimed derivative against TARGET: a model file, an identity number, or an expression
    with a --shape for each of its variables.

    Sizes given as symbols (W=n,m) are decided at several small sizes, numbers (W=3,2) at those.
    Exit code 0 when the claim holds, 1 when it does not (or holds only in the other layout: the
    message says so), 3 when it is undecided, 2 on bad input.

    \b
    Examples:
      jacobian-sym check derivations/one_layer.toml --wrt W --claim "delta2.T @ x.T"
      jacobian-sym check derivations/one_layer.toml --wrt b1 --claim "\\delta_2"
      jacobian-sym check 2.1 --wrt x --claim W
      jacobian-sym check "sum(square(W @ x))" --shape W=n,m --shape x=m,1 --wrt W --claim "2 * W @ x @ x.T"
    """
    from jacobian_sym.base.progress import Progress
    from jacobian_sym.claims.decide import check as run

    with Progress(f"check ∂/∂{wrt}") as progress:
        progress(0, 1, "deriving and deciding the claim")  # a claim on a deep model takes seconds
        verdict = run(*_claim_target(target, shapes, wrt, layout), claim, layout=layout)
    click.echo(str(verdict))
    sys.exit(3 if verdict.ok is None else 0 if verdict.ok else 1)


def _claim_target(target, shapes, wrt, layout):
    """(what a claim is checked against, the variable): a model file or an identity as derived, or an
    expression over the --shape variables with the variable's node."""
    from jacobian_sym.notes.identities import IDENTITIES

    named = target.endswith(".toml") or target in IDENTITIES
    if named and shapes:
        what = "a model file" if target.endswith(".toml") else "an identity of the notes"
        raise JacobianSymError(f"--shape applies to an expression TARGET; {target} is {what}, which names its "
                               "own variables")
    if named:
        return _target(target, (), None, layout), wrt
    if not shapes:
        raise JacobianSymError(f"{target!r} is neither a model file (.toml) nor an identity of the notes "
                               "(jacobian-sym list); an expression needs a --shape for each variable")
    names = _variables(shapes)
    if wrt not in names:
        raise JacobianSymError(f"--wrt {wrt}: no --shape declares {wrt!r}")
    return _expression(target, names), names[wrt]


@cli.command()
def errata():
    """Audit the notes' whole file and print the lines that are wrong values.

    The notes ship with the package; what they leave unsaid is in derivations/notes.context.toml.
    `jacobian-sym audit` prints the whole audit (notation, conditions, what could not be decided).

    \b
    Example:
      jacobian-sym errata
    """
    from jacobian_sym.audit import verdicts as A
    from jacobian_sym.audit.errata import notes_audit
    from jacobian_sym.audit.report import text_report

    _progress("auditing the notes …")
    report = notes_audit()
    click.echo(text_report(report, (A.FAILS,)))
    click.echo(f"{len(report.failing)} lines of the notes are wrong values")


@cli.command()
@click.argument("document", type=click.Path(dir_okay=False))
@click.option("--context", type=click.Path(dir_okay=False), help="A context file (TOML) for what the document "
              "does not say: shapes, one-hot labels, definitions, per section.")
@click.option("--shape", "shapes", multiple=True, metavar="NAME=ROWS,COLS",
              help="A symbol's shape in every section (repeatable), e.g. W=n,m.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format of the report.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Where to write the report ('-': stdout).")
def audit(document, context, shapes, fmt, output):
    """Check every equation of DOCUMENT (Markdown with $…$ and $$…$$, or LaTeX).

    Each link a = b of every chain is decided at concrete sizes (holds, notation, conditional,
    wrong value) or reported as not decidable with the reason. Exit code 1 when a link is a wrong
    value, 0 otherwise, 2 on bad input.

    \b
    Examples:
      jacobian-sym audit tests/audit/hidden_layer.tex
      jacobian-sym audit tests/audit/least_squares.md --format markdown -o audit.md
      jacobian-sym audit tests/audit/least_squares.md --shape W=h,d --format latex -o audit.tex
    """
    from jacobian_sym.audit.driver import audit as run
    from jacobian_sym.base.progress import Progress

    _writable(output, "-o")
    sizes = _shapes(shapes)
    with Progress(f"audit {document}") as progress:
        report = run(Path(document), Path(context) if context else None, shapes=sizes, progress=progress)
    text = report.latex() if fmt == "latex" else report.markdown() if fmt == "markdown" else str(report) + "\n"
    _write(output, text)
    sys.exit(1 if report.failing else 0)


def _load_model(path):
    from jacobian_sym.models.model import Model
    from jacobian_sym.notes.identities import IDENTITIES

    if path in IDENTITIES:
        verb = click.get_current_context().info_name
        _fail(f"{verb} takes a model file; {path} is one of the notes' identities (jacobian-sym derive {path})")

    return Model.from_toml(path)


@cli.command("codegen")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Where to write ('-': stdout); written only when the kernel was generated and checked.")
@click.option("--backend", default="numpy", show_default=True, metavar="numpy|jax|torch",
              help="The engine the module runs on (jax and torch need that engine installed).")
def codegen_cmd(model, output, backend):
    """Write a standalone NumPy, JAX or PyTorch module with MODEL's loss and gradients.

    \b
    Example:
      jacobian-sym codegen derivations/one_layer.toml -o kernels.py
      python -c "import kernels; help(kernels.one_layer)"
      jacobian-sym codegen derivations/one_layer.toml --backend torch -o one_layer_torch.py
    """
    from jacobian_sym.kernels.backends import get_backend
    from jacobian_sym.kernels.codegen import codegen
    from jacobian_sym.proofs.guard import backprop

    get_backend(backend)  # a bad name is refused before the model is derived
    _writable(output, "-o")
    _write(output, codegen(backprop(_load_model(model)), backend=backend))


def _parse_sizes(pairs):
    sizes = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name.strip()) or not re.fullmatch(
                r"[0-9]{1,9}", value.strip()) or int(value) < 1:
            raise JacobianSymError(f"--size takes NAME=N with a positive integer N, not {pair!r}")
        sizes[name.strip()] = int(value)
    return sizes


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--size", "sizes", multiple=True, metavar="NAME=N",
              help="A size of the model (repeatable); unset sizes are 64, and the batch B is 1 and 64.")
@click.option("--calls", type=click.IntRange(min=1, max=1_000_000), default=200, show_default=True,
              help="Calls per measurement.")
def bench(model, sizes, calls):
    """Time MODEL's generated kernel (µs per forward+backward call: median and the 10–90 % spread), with
    BLAS pinned to one thread at run time.

    \b
    Example:
      jacobian-sym bench derivations/one_layer.toml --size D_x=784 --size D_h=256 --size N_c=10
    """
    from jacobian_sym.kernels.codegen import kernel
    from jacobian_sym.kernels.timing import bench_kernel
    from jacobian_sym.proofs.guard import backprop

    given = _parse_sizes(sizes)
    f = kernel(backprop(_load_model(model)))
    for row in bench_kernel(f, given, calls):
        click.echo(row)


def main():
    """The command line; a usage error (an unknown flag, a missing argument) is one line on stderr and
    exit code 2, as every other bad input is (click alone prints usage, a hint and the error)."""
    try:
        code = cli.main(standalone_mode=False)
    except click.UsageError as err:
        where = err.ctx.command_path if err.ctx is not None else "jacobian-sym"
        _fail(f"{err.format_message()} (see {where} --help)")
    except click.ClickException as err:
        _fail(err.format_message())
    except click.exceptions.Abort:
        _fail("aborted")
    sys.exit(code if isinstance(code, int) else 0)
