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


def main():
    cli()
