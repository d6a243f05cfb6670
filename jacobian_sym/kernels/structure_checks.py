"""The kernels' check of declared structure: an array declared symmetric must be (``runtime._symmetric``)."""

from __future__ import annotations

from jacobian_sym.graph.structure import is_symmetric


def symmetric_names(nodes, spec) -> list[str]:
    """The arrays of ``spec`` whose variables (among ``nodes``) are declared symmetric, in spec's order."""
    declared = {n.name for n in nodes if is_symmetric(n)}
    return [name for name in spec if name in declared]


def symmetric_check_lines(names) -> list[str]:
    """The lines a generated function runs after its input checks: ``_symmetric({'A': A})`` when checked."""
    if not names:
        return []
    return ["    if check:", f"        _symmetric({{{', '.join(f'{n!r}: {n}' for n in names)}}})"]
