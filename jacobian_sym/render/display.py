"""SymPy results that print in the notes' notation: ``str``, ``repr`` (the REPL), IPython's pretty
printer and Jupyter's LaTeX all show σ′(Wb) bᵀ, not ``Lambda(_d, sigmoid_prime(_d)).(W*b)*b.T``.

``shown(expr)`` returns the same SymPy object — same class underneath, same arguments, equal to
and hashed like the original — whose top node prints with the notes' printers. Only the top node is
re-classed: anything built from it (``expr.T``, ``2*expr``) is ordinary SymPy again.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.basic import Basic

from jacobian_sym.render.printers import latex, plain


class Shown:
    """Mixed into a SymPy class, ahead of it: printing in the notes' notation, nothing else."""

    __slots__ = ()

    def __str__(self):
        return plain(self)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle):
        p.text(plain(self))

    def _repr_latex_(self):
        return rf"$\displaystyle {latex(self)}$"

    def __eq__(self, other):
        base = _BASES[type(self)]
        if isinstance(other, Basic) and _BASES.get(type(other), type(other)) is base:
            return self._hashable_content() == other._hashable_content()
        return base.__eq__(self, other)

    def __hash__(self):
        return Basic.__hash__(self)  # type(self).__name__ is the base's: the same hash as the original

    def __reduce_ex__(self, protocol):
        """Pickled as the plain SymPy object and shown again on load (the display class is made at run
        time, so pickle could not find it by name)."""
        return shown, (_copy(self, _BASES[type(self)]),)


_SHOWN: dict[type, type] = {}
_BASES: dict[type, type] = {}


def _copy(expr, cls):
    """A new ``cls`` object with ``expr``'s state (its slots, and its __dict__ where it has one)."""
    out = object.__new__(cls)
    for slot in _slots(type(expr)):
        if hasattr(expr, slot):
            setattr(out, slot, getattr(expr, slot))
    if hasattr(expr, "__dict__"):
        out.__dict__.update(expr.__dict__)
    return out


def _slots(cls) -> list[str]:
    out = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        out.extend([slots] if isinstance(slots, str) else slots)
    return out


def shown(expr):
    """``expr`` printing in the notes' notation (a non-SymPy value is returned as it is). A bare matrix
    symbol is shown too (``str`` of δ₁ is δ₁); SymPy's printers for code (lambdify) do not read
    ``str``, so it names arguments as before."""
    if not isinstance(expr, Basic) or isinstance(expr, Shown) or expr.is_Atom:
        return expr
    base = type(expr)
    cls = _SHOWN.get(base)
    if cls is None:
        cls = type(base.__name__, (Shown, base), {"__slots__": (), "__module__": base.__module__})
        _SHOWN[base] = cls
        _BASES[cls] = base
    return _copy(expr, cls)


class Displayed:
    """What a result object shows: ``repr`` is one line (``summary()``), ``str`` the full text, IPython's
    pretty printer the full text, Jupyter the Markdown of ``markdown()`` (math checked by MathJax)."""

    def summary(self) -> str:  # pragma: no cover - every subclass says its own
        raise NotImplementedError

    def markdown(self) -> str:
        return "```text\n" + str(self) + "\n```"

    def __repr__(self):
        return f"<{type(self).__name__} {self.summary()}>"

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def _repr_markdown_(self):
        return self.markdown()


class Forms(dict):
    """Closed forms by name (``bp.deltas``, ``bp.gradients``): a dict whose values print in the notes'
    notation and that Jupyter shows as aligned equations δ₁ = …, ∂J/∂W = …."""

    def __init__(self, items=(), *, gradients: bool = False):
        super().__init__((k, shown(v)) for k, v in dict(items).items())
        self._gradients = gradients

    def label(self, name: str):
        symbol = sp.Symbol(name)
        return sp.Derivative(sp.Symbol("J"), symbol) if self._gradients else symbol

    def _equations(self) -> str:
        rows = [f"  {latex(self.label(k))} &= {latex(v)}" for k, v in self.items()]
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def _repr_latex_(self):
        return "$$" + self._equations() + "$$" if self else None

    def _repr_markdown_(self):
        return "$$\n" + self._equations() + "\n$$" if self else None

    def _repr_pretty_(self, p, cycle):
        p.text("\n".join(f"{plain(self.label(k))} = {plain(v)}" for k, v in self.items()))


class Label(sp.Symbol):
    """A left-hand side the notes' notation writes but SymPy has no object for — a directional
    derivative D z_k[V], a Hessian–vector product ∇²J[V], the Hessian by vec W — kept as a SymPy
    symbol so that steps stay SymPy objects; it prints its own LaTeX and text."""

    def __new__(cls, text: str, tex: str):
        obj = super().__new__(cls, text)
        obj._tex = tex
        return obj

    def _latex(self, printer):
        return self._tex

    def _sympystr(self, printer):
        return self.name

    @classmethod
    def directional(cls, element, V):
        """D element [V]: the derivative of an element along the direction V."""
        return cls(f"D{plain(element)}[{plain(V)}]", rf"\mathrm{{D}}{latex(element)}[{latex(V)}]")

    @classmethod
    def hvp(cls, W, V, indices):
        """∇²_W J [V], or its element (p, q)."""
        tex = rf"\nabla^{{2}}_{{{latex(W)}}} J\,[{latex(V)}]"
        text = f"∇²_{plain(W)} J[{plain(V)}]"
        if indices is None:
            return cls(text, tex)
        idx = [i for i, size in zip(indices, W.shape) if size != 1]
        sub = "".join(plain(i) for i in idx)
        return cls(f"({text})_{sub}", rf"\left({tex}\right)_{{{''.join(latex(i) for i in idx)}}}")

    @classmethod
    def vec_hessian(cls, W):
        return cls(f"∂²J/∂vec({plain(W)})∂vec({plain(W)})ᵀ",
                   rf"\frac{{\partial^{{2}} J}}{{\partial \operatorname{{vec}}({latex(W)})\,"
                   rf"\partial \operatorname{{vec}}({latex(W)})^{{T}}}}")

    @classmethod
    def block_hessian(cls, variables):
        """∂²J/∂(x,b)∂(x,b)ᵀ: the Hessian by several vectors stacked."""
        text = ",".join(plain(v) for v in variables)
        tex = ", ".join(latex(v) for v in variables)
        return cls(f"∂²J/∂({text})∂({text})ᵀ",
                   rf"\frac{{\partial^{{2}} J}}{{\partial ({tex})\, \partial ({tex})^{{T}}}}")
