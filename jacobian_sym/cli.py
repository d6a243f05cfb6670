"""The ``jacobian-sym`` command line: parse arguments, call the API, echo."""

from __future__ import annotations

import sys

import click

from .errors import JacobianSymError

FORMATS = ("latex", "markdown", "text")


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except JacobianSymError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="jacobian_sym")
def cli():
    """Symbolic derivations of neural-network gradients, element by element.

    \b
    Examples:
      jacobian-sym list
      jacobian-sym derive 2.5
      jacobian-sym derive 2.7 --format text --layout denominator
      jacobian-sym verify 2.1 2.5
    """


@cli.command("list")
def list_cmd():
    """List the notes' identities, one line each."""
    from .identities import IDENTITIES

    for section, identity in IDENTITIES.items():
        click.echo(f"{section:<12} {identity.title}")


@cli.command()
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="latex", show_default=True,
              help="Output format.")
@click.option("--layout", type=click.Choice(("numerator", "denominator")), default="numerator",
              show_default=True, help="numerator: the notes' layout (δ a row); denominator: δ a column.")
@click.option("--standalone", is_flag=True, help="A complete LaTeX document.")
@click.option("-o", "--output", type=click.File("w"), default="-", help="Where to write ('-': stdout).")
def derive(target, fmt, layout, standalone, output):
    """Derive TARGET (an identity number such as 2.5, or a model file) and print the derivation.

    \b
    Examples:
      jacobian-sym derive 2.5 --standalone -o identity-2.5.tex
      jacobian-sym derive derivations/one_layer.toml
    """
    from . import render
    from .derive import derive as derive_identity

    if target.endswith(".toml"):
        from .backprop import backprop
        from .model import Model

        bp = backprop(Model.from_toml(target), layout=layout)
        if fmt == "text":
            lines = [f"{k} = {v}" for k, v in {**bp.deltas, **bp.gradients}.items()]
            output.write("\n".join([bp.model.title, *lines]) + "\n")
        elif fmt == "markdown":
            output.write(render.render_backprop_latex(bp, display="$$") + "\n")
        else:
            output.write(render.render_backprop_latex(bp, standalone=standalone))
        return
    d = derive_identity(target, layout=layout)
    if fmt == "latex":
        output.write(render.render_latex(d, standalone=standalone))
    elif fmt == "markdown":
        output.write(render.render_markdown(d))
    else:
        output.write(render.render_text(d) + "\n")


@cli.command()
@click.argument("targets", nargs=-1)
def verify(targets):
    """Run the three proofs of each TARGET (default: every identity); exit 1 if any fails."""
    from .derive import derive as derive_identity
    from .identities import IDENTITIES
    from .verify import verify as run

    failed = False
    for target in targets or list(IDENTITIES):
        report = run(derive_identity(target))
        click.echo(str(report))
        failed |= not report.ok
    sys.exit(1 if failed else 0)


def _load_model(path):
    from .model import Model

    return Model.from_toml(path)


@cli.command("codegen")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.File("w"), default="-", help="Where to write ('-': stdout).")
def codegen_cmd(model, output):
    """Write a standalone NumPy module with MODEL's loss and gradients.

    \b
    Example:
      jacobian-sym codegen derivations/one_layer.toml -o kernels.py
      python -c "import kernels; help(kernels.one_layer)"
    """
    from .backprop import backprop
    from .codegen import codegen

    output.write(codegen(backprop(_load_model(model))))


def _parse_sizes(pairs):
    from .errors import JacobianSymError

    sizes = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip().isidentifier() or not value.strip().isdigit() or int(value) < 1:
            raise JacobianSymError(f"--size takes NAME=N with a positive integer N, not {pair!r}")
        sizes[name.strip()] = int(value)
    return sizes


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--size", "sizes", multiple=True, metavar="NAME=N",
              help="A size of the model (repeatable); unset sizes are 64, and the batch B is 1 and 64.")
@click.option("--calls", type=int, default=200, show_default=True, help="Calls per measurement.")
def bench(model, sizes, calls):
    """Time MODEL's generated kernel (median µs per forward+backward call, single-threaded BLAS).

    \b
    Example:
      jacobian-sym bench derivations/one_layer.toml --size D_x=784 --size D_h=256 --size N_c=10
    """
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .backprop import backprop
    from .codegen import kernel
    from .timing import bench_kernel

    given = _parse_sizes(sizes)
    f = kernel(backprop(_load_model(model)))
    for row in bench_kernel(f, given, calls):
        click.echo(row)


def main():
    cli()
