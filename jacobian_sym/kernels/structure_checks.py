"""The kernels' check of declared structure: an array declared symmetric must be, to rounding.

The check is written into a generated module only when the model declares a symmetric array: a
helper function (``SYMMETRIC_HELPER``) and a call after the input checks, skipped with check=False.
"""

from __future__ import annotations

from jacobian_sym.graph.structure import is_symmetric

#: the helper a module with a symmetric array carries (it reads the runtime's ``_ROUNDING`` and ``InputError``)
SYMMETRIC_HELPER = '''def _symmetric(arrays):
    """Each array declared symmetric is, to rounding: max |A - A.T| <= 1000 eps max |A| (compared in
    bands of 64 rows against 64 columns, which stay in cache: 3x faster than A - A.T at 256)."""
    for name, a in arrays.items():
        gap = max(float(np.abs(a[i:i + 64, :] - a[:, i:i + 64].T).max()) for i in range(0, a.shape[0], 64))
        if not gap <= _ROUNDING[a.dtype.char] * max(float(np.abs(a).max()), 1e-300):
            raise InputError(f"{name} is declared symmetric but is not: max |{name} - {name}.T| = {gap:.3g}")'''


def symmetric_names(nodes, spec) -> list[str]:
    """The arrays of ``spec`` whose variables (among ``nodes``) are declared symmetric, in spec's order."""
    declared = {n.name for n in nodes if is_symmetric(n)}
    return [name for name in spec if name in declared]


def symmetric_check_lines(names) -> list[str]:
    """The lines a generated function runs after its input checks: ``_symmetric({'A': A})`` when checked."""
    if not names:
        return []
    return ["    if check:", f"        _symmetric({{{', '.join(f'{n!r}: {n}' for n in names)}}})"]


def symmetric_helpers(names) -> str:
    """The helper's source, as a module's helpers are joined (blank lines first), when ``names`` has any."""
    return f"\n\n{SYMMETRIC_HELPER}" if names else ""


def tied_refusal(bp, words: str) -> str | None:
    """Why an engine with a custom-gradient door (JAX's custom_vjp, PyTorch's autograd Function) cannot
    take ``bp``'s model, or None: a gradient by a symmetric S is the derivative by its free entries
    (G + Gᵀ − I ∘ G), which is no vector-Jacobian product of an unconstrained input, so the engine's
    chain rule through the door would compose it wrongly."""
    names = [n.name for n in bp.model.variables.values() if is_symmetric(n)]
    if not names:
        return None
    return (f"the {words} takes no symmetric array ({', '.join(names)}): its gradient is the derivative by the "
            "free entries, which the engine's autodiff would compose as an unconstrained one; use the NumPy backend")


def symmetric_header(names, nodes) -> str:
    """``SYMMETRIC = ('A',)``, the module's symmetric arrays, and ``POSITIVE_DEFINITE``, those declared
    so (random test values: SPD), when it has any."""
    if not names:
        return ""
    definite = tuple(n.name for n in nodes if is_symmetric(n) and n.attr("positive_definite") and n.name in names)
    return f"SYMMETRIC = {tuple(names)!r}\n" + (f"POSITIVE_DEFINITE = {definite!r}\n" if definite else "")


def declared_symmetric(module) -> tuple:
    """The arrays a generated module declares symmetric (none when it has no ``SYMMETRIC``)."""
    return tuple(getattr(module, "SYMMETRIC", ()))


def declared_definite(module) -> tuple:
    """The arrays a generated module declares symmetric positive definite."""
    return tuple(getattr(module, "POSITIVE_DEFINITE", ()))
