"""SymPy's printers, subclassed for the notes' notation: LaTeX and one line of Unicode text.

Both print W_{ij}, δ₁, ŷ, θ, ∘, diag, ∂J/∂W, σ′(Wb)ᵀ, sums over 1 … n, the Kronecker delta as the
Iverson bracket [i = k] (the notes' case split "1 if i = k, 0 otherwise"; δ is kept for the error
signals), and a difference with its positive term first (ŷ − y). Subscripts are built from a name's
parts, never appended to printed text; nothing is post-processed as a string.
"""

from __future__ import annotations

import unicodedata

import sympy as sp
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter, translate
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty_symbology import pretty_symbol
from sympy.printing.str import StrPrinter

from jacobian_sym.base.codetext import fill
from jacobian_sym.ops.functions import ElementFunction, element_class
from jacobian_sym.render.notation import NOTATION, latex_name, text_name


def _body_of(fn, d):
    return fn(d) if not isinstance(fn, sp.Lambda) else fn.expr.xreplace({fn.variables[0]: d})


def _function_latex(cls) -> str:
    """An element-wise function's LaTeX name, with a prime per derivative (σ′)."""
    return latex_name(cls.op_name) + "'" * cls.order


def _function_text(cls) -> str:
    return text_name(cls.op_name) + ("″" * (cls.order // 2) + "′" * (cls.order % 2))


def subscripted(name: str, sub: str) -> str:
    """The LaTeX of ``name`` with one more subscript, merged with the name's own (W0 and i j give
    W_{0,ij}, delta_1 and k give δ_{1,k}): a subscript is built, never appended to printed text."""
    base, supers, subs = split_super_sub(name)
    subs = [*subs, sub] if sub else subs
    out = translate(base)
    if supers:
        out += "^{" + " ".join(translate(x) for x in supers) + "}"
    return out + ("_{" + ",".join(translate(x) for x in subs) + "}" if subs else "")


def _negative(term) -> bool:
    coeff = term.as_coeff_mmul()[0] if isinstance(term, sp.MatMul) else term.as_coeff_Mul()[0]
    return bool(coeff.is_number and coeff.is_negative) or (isinstance(term, sp.MatMul) and
                                                          coeff.could_extract_minus_sign())


def positive_first(terms) -> list:
    """The terms of a sum with the positive ones first (ŷ − y, not −y + ŷ), otherwise in order."""
    return sorted(terms, key=_negative)


def ones_scale(term):
    """c for c·1 (a number times a matrix of ones), else None."""
    if isinstance(term, sp.OneMatrix):
        return sp.Integer(1)
    if isinstance(term, sp.MatMul):
        coeff, mats = term.as_coeff_matrices()
        if len(mats) == 1 and isinstance(mats[0], sp.OneMatrix):
            return coeff
    return None


def signed_sum(printer, e) -> str:
    """A sum with its positive terms first and a subtracted term written a − b (both printers); a
    number times a matrix of ones beside a full-size term is that number, broadcast (v + ε, not v + ε 1)."""
    terms = positive_first(e.args)
    if isinstance(e, sp.MatAdd) and any(ones_scale(t) is None for t in terms):
        terms = [ones_scale(t) if ones_scale(t) is not None else t for t in terms]
    out = printer._print(terms[0])
    for t in terms[1:]:
        out += (" - " + printer.parenthesize(-t, 40)) if _negative(t) else (" + " + printer.parenthesize(t, 40))
    return out


def derivative_variables(e) -> list:
    """What a derivative is taken by, in order, the last one transposed when all are matrices: the
    Hessian ∂²J/∂x∂xᵀ (elements, ∂²J/∂x_i∂x_j, stay as they are)."""
    variables = [v for v, count in e.variable_count for _ in range(count)]
    if len(variables) > 1 and all(isinstance(v, sp.MatrixSymbol) for v in variables):
        variables[-1] = sp.Transpose(variables[-1])
    return variables


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _untransposed(e):
    """``eᵀ`` written with no transpose outside a leaf, or None: (gᵀ)ᵀ is g, (gᵀ ∘ rᵀ)ᵀ is g ∘ r."""
    if isinstance(e, sp.Transpose):
        return e.arg
    if isinstance(e, sp.HadamardProduct):
        parts = [_untransposed(a) for a in e.args]
        return None if any(p is None for p in parts) else sp.HadamardProduct(*parts)
    return None


def diag_argument(e):
    """What diag is printed of: a vector's transpose drops (diag(gᵀ) of a row g is diag(g), the same
    diagonal matrix, as a reader writes it)."""
    arg = e.args[0]
    return _untransposed(arg) or arg


def _is_application(e) -> bool:
    """A function applied to an argument in parentheses: atomic for a transpose (σ′(z)ᵀ)."""
    return isinstance(e, (sp.MatrixSymbol, ElementFunction)) or type(e).__name__ in (
        "ElementwiseApplyFunction", "OpApply", "DiagMatrix")


def _element_indices(e):
    rows, cols = e.parent.shape
    return [i for i, size in zip(e.indices, (rows, cols)) if size != 1]



def slice_spans(printer, e) -> tuple[str, str]:
    """The rows and columns a slice keeps, 1-based and inclusive as the notes count: ":" for all,
    "k+1:2k" for the second of two blocks of k."""
    out = []
    for (start, stop, _), size in zip((e.rowslice, e.colslice), e.parent.shape):
        whole = start == 0 and stop == size
        out.append(":" if whole else f"{_size_text(printer, start + 1)}:{_size_text(printer, stop)}")
    return out[0], out[1]


def slice_text(printer, e, comma: str) -> str:
    """The spans of a slice as written in brackets: "1:k" for a vector's part, ":, k+1:2k" for a
    matrix's columns."""
    rows, cols = slice_spans(printer, e)
    if e.parent.shape[0] == 1:
        return cols
    if e.parent.shape[1] == 1:
        return rows
    return f"{rows}{comma}{cols}"


def _size_text(printer, size) -> str:
    """A size sum as a reader writes it: k+1, 2k (names first, the number last)."""
    terms = sorted(sp.Add.make_args(size), key=lambda t: t.is_Integer)
    return "+".join(f"{printer._print(t.args[0])}{printer._print(t.args[1])}" if t.is_Mul else printer._print(t)
                    for t in terms)


def with_axis(template: str, axis) -> str:
    """A notation template with the op's axis put in (mean(X, axis=1)); ``<axis_kw>`` and
    ``<axis_kw_tex>`` are the keyword written only when there is an axis (sum(A) or sum(A, axis=1))."""
    kw = "" if axis is None else f", axis={axis}"
    kw_tex = "" if axis is None else rf",\ \text{{axis}}={axis}"
    template = template.replace("<axis_kw_tex>", kw_tex).replace("<axis_kw>", kw)
    return template.replace("<axis>", str(axis)) if "<axis>" in template else template


def number_params(e) -> dict:
    """An op's number parameters besides its axis, as text for its template (unfold's {width})."""
    return {k: str(v) for k, v in e.params.items() if k != "axis"}


class NotesLatexPrinter(LatexPrinter):
    """LaTeX in the notes' notation."""

    def __init__(self, settings=None):
        settings = dict(settings or {})
        #: \dfrac for a derivative set inside an array (the dimension table), where \frac is tiny
        self._frac = settings.pop("frac", r"\frac")
        super().__init__({"order": "none", **settings})

    def _args(self, inner: str, tall: bool) -> str:
        # (z) directly after \operatorname{ReLU}': an operator followed by an opening parenthesis
        # takes no space, where \left( would add a thin one ("ReLU′ (z)")
        return rf"\mathopen{{}}\left({inner}\right)\mathclose{{}}" if tall else f"({inner})"

    def _tall(self, e) -> bool:
        return bool(e.atoms(sp.Sum, sp.Derivative)) or isinstance(e, sp.Pow) and e.exp.is_negative

    def _print_MatrixElement(self, e):
        named = isinstance(e.parent, sp.MatrixSymbol)
        if e.parent.shape == (1, 1):  # the element of a scalar is the scalar: J, not J_0
            return self._print(sp.Symbol(e.parent.name)) if named else self._print(e.parent)
        indices = "".join(self._print(i) for i in _element_indices(e))
        if not named:  # an element of an expression: (f(W x))_i
            return rf"\left({self._print(e.parent)}\right)_{{{indices}}}"
        return subscripted(e.parent.name, indices)

    def _print_KroneckerDelta(self, e, exp=None):
        a, b = (self._print(x) for x in e.args[:2])
        return rf"[{a} = {b}]"

    def _print_Sum(self, e):
        # the notes' indices run 1 … n: Σ_{k=0}^{n−1} is printed Σ_{k=1}^{n}
        out = []
        for k, lo, hi in e.limits:
            out.append(rf"\sum_{{{self._print(k)}={self._print(lo + 1)}}}^{{{self._print(hi + 1)}}}")
        return " ".join(out) + " " + self.parenthesize(e.function, 40)

    def _print_Add(self, e, order=None):
        return signed_sum(self, e)

    _print_MatAdd = _print_Add

    def _print_ElementwiseApplyFunction(self, e):
        cls = element_class(e.function)
        if cls is not None:
            return _function_latex(cls) + self._args(self._print(e.expr), self._tall(e.expr))
        d = sp.Dummy("s")
        return self._print(_body_of(e.function, d).xreplace({d: sp.Symbol(self._print(e.expr))}))

    def _print_DiagMatrix(self, e):
        arg = diag_argument(e)
        return r"\operatorname{diag}" + self._args(self._print(arg), self._tall(arg))

    def _print_log(self, e, exp=None):
        out = r"\log" + self._args(self._print(e.args[0]), self._tall(e.args[0]))
        return out if exp is None else rf"{out}^{{{exp}}}"

    def _print_Derivative(self, e):
        below = [rf"\partial {self._print(v)}" for v in derivative_variables(e)]
        if len(below) == 1:
            return rf"{self._frac}{{\partial {self._print(e.expr)}}}{{{below[0]}}}"
        joined = r" \, ".join(below)
        return rf"{self._frac}{{\partial^{{{len(below)}}} {self._print(e.expr)}}}{{{joined}}}"

    def _print_OneMatrix(self, e):
        """A column of ones is 1, a row 1ᵀ, a matrix of ones 1 1ᵀ (an outer product of two columns)."""
        rows, cols = e.shape
        if rows == 1 and cols != 1:
            return r"\mathbf{1}^{T}"
        return r"\mathbf{1}" if cols == 1 or rows == 1 else r"\mathbf{1} \mathbf{1}^{T}"

    def _print_Identity(self, e):
        return "I"

    def _print_OneHotSymbol(self, e):
        """An int label input's one-hot matrix, onehot(y) (``graph/labels.py``)."""
        return rf"\operatorname{{onehot}}({self._print(sp.MatrixSymbol(*e.args))})"

    def _print_Transpose(self, e):
        if isinstance(e.arg, sp.Inverse):  # (X⁻¹)ᵀ as X⁻ᵀ
            return rf"{self._inverted(e.arg.arg)}^{{-T}}"
        inner = self._print(e.arg)
        if _is_application(e.arg):
            return rf"{inner}^{{T}}"
        return rf"\left({inner}\right)^{{T}}"

    def _inverted(self, M):
        inner = self._print(M)
        return inner if isinstance(M, sp.MatrixSymbol) else rf"\left({inner}\right)"

    def _print_Inverse(self, e):
        if isinstance(e.arg, sp.Transpose):  # (Xᵀ)⁻¹ as X⁻ᵀ
            return rf"{self._inverted(e.arg.arg)}^{{-T}}"
        return rf"{self._inverted(e.arg)}^{{-1}}"

    def _print_Function(self, e, exp=None):
        # (SymPy dispatches a Function subclass on its own name only, never on ElementFunction)
        if isinstance(e, ElementFunction):
            out = _function_latex(type(e)) + self._args(self._print(e.args[0]), self._tall(e.args[0]))
            return out if exp is None else rf"{out}^{{{exp}}}"
        return super()._print_Function(e, exp)

    def _print_MatrixSlice(self, e):
        parent = self._print(e.parent)
        parent = f"{{{parent}}}" if isinstance(e.parent, sp.MatrixSymbol) else rf"\left({parent}\right)"
        spans = slice_text(self, e, ",\\, ")
        return rf"{parent}_{{[{spans}]}}".replace(":", "{:}")

    def _print_Embedded(self, e):
        """∂J/∂A of a slice of A: its signal in its block, zeros around it, [0; G]."""
        rows = [" & ".join("0" if c is None else self._print(c) for c in row) for row in e.cells()]
        return r"\left[\begin{matrix}" + r" \\ ".join(rows) + r"\end{matrix}\right]"

    def _print_OpApply(self, e):
        template = with_axis(NOTATION[e.op_name].latex, dict(e.params).get("axis"))
        return fill(template, *(self._print(a) for a in e.operands), **number_params(e))

    def _print_MatMul(self, e):
        # a fraction in front prints as \frac{1}{8} A B (SymPy wraps a positive one in parentheses)
        coeff, matrices = e.as_coeff_matrices()
        if coeff.is_Rational and not coeff.is_Integer and matrices:
            one = matrices[0] if len(matrices) == 1 else sp.MatMul(*matrices, evaluate=False)
            rest = self._print(one) if isinstance(one, sp.MatMul) else self.parenthesize(one, PRECEDENCE["Mul"])
            return ("- " if coeff < 0 else "") + rf"{self._frac}{{{abs(coeff.p)}}}{{{coeff.q}}} {rest}"
        # (A B) C is A B C: a nested product is printed flat, not in parentheses
        if any(isinstance(a, sp.MatMul) for a in e.args):
            flat = []
            for a in e.args:
                flat.extend(a.args if isinstance(a, sp.MatMul) else [a])
            numbers = [a for a in flat if not isinstance(a, sp.MatrixExpr)]  # a coefficient goes first
            matrices = [a for a in flat if isinstance(a, sp.MatrixExpr)]
            return super()._print_MatMul(sp.MatMul(*numbers, *matrices, evaluate=False))
        return super()._print_MatMul(e)


class NotesStrPrinter(StrPrinter):
    """One line of Unicode in the notes' notation: δ₁ U ∘ ReLU′(z)ᵀ, (ŷ − y)ᵀ, ∂J/∂W, W_ij."""

    def __init__(self, settings=None, rename=None):
        super().__init__({"order": "none", **(settings or {})})
        self._rename = rename

    def _name(self, name: str) -> str:
        # NFC: ŷ as one character, as a reader types it (pretty_symbol gives y and a combining hat)
        return self._rename(name) if self._rename is not None else unicodedata.normalize("NFC", pretty_symbol(name))

    def _print_MatrixSymbol(self, e):
        return self._name(e.name)

    def _print_Symbol(self, e):
        return self._name(e.name)

    def _print_OneHotSymbol(self, e):
        return f"onehot({self._name(e.name)})"

    def _print_MatrixElement(self, e):
        if e.parent.shape == (1, 1):
            return self._print(e.parent)
        return f"{self._print(e.parent)}_{''.join(self._print(i) for i in _element_indices(e))}"

    def _print_Sum(self, e):
        lims = ", ".join(f"{self._print(k)}={self._print(lo + 1)}..{self._print(hi + 1)}" for k, lo, hi in e.limits)
        return f"Σ[{lims}] {self.parenthesize(e.function, 40)}"

    def _print_Add(self, e, order=None):
        return signed_sum(self, e)

    _print_MatAdd = _print_Add

    def _print_HadamardProduct(self, e):
        return " ∘ ".join(self.parenthesize(a, 100) if isinstance(a, (sp.MatAdd, sp.MatMul)) and len(e.args) > 1
                          else self._print(a) for a in e.args)

    def _print_ElementwiseApplyFunction(self, e):
        cls = element_class(e.function)
        if cls is not None:
            return f"{_function_text(cls)}({self._print(e.expr)})"
        d = sp.Dummy("s")
        return self._print(_body_of(e.function, d).xreplace({d: sp.Symbol(self._print(e.expr))}))

    def _print_Function(self, e):
        if isinstance(e, ElementFunction):
            return f"{_function_text(type(e))}({self._print(e.args[0])})"
        return super()._print_Function(e)

    def _print_OneMatrix(self, e):
        rows, cols = e.shape
        if rows == 1 and cols != 1:
            return "1ᵀ"
        return "1" if cols == 1 or rows == 1 else "1 1ᵀ"

    def _print_Identity(self, e):
        return "I"

    def _print_ZeroMatrix(self, e):
        return "0"

    def _print_MatrixSlice(self, e):
        parent = self._print(e.parent)
        return f"{parent if isinstance(e.parent, sp.MatrixSymbol) else f'({parent})'}[{slice_text(self, e, ', ')}]"

    def _print_Embedded(self, e):
        rows = [", ".join("0" if c is None else self._print(c) for c in row) for row in e.cells()]
        return "[" + "; ".join(rows) + "]"

    def _print_OpApply(self, e):
        template = with_axis(NOTATION[e.op_name].text or e.op_name + "({0})", dict(e.params).get("axis"))
        return fill(template, *(self._print(a) for a in e.operands), **number_params(e))

    def _print_DiagMatrix(self, e):
        return f"diag({self._print(diag_argument(e))})"

    def _print_MatMul(self, e):
        coeff, mats = e.as_coeff_matrices()
        body = " ".join(self.parenthesize(m, 100) if isinstance(m, (sp.MatAdd, sp.HadamardProduct)) else self._print(m)
                        for m in mats)
        if coeff == 1:
            return body
        if coeff == -1:
            return "-" + body
        return f"{self.parenthesize(coeff, 50)} {body}"

    def _print_Mul(self, e):
        coeff, rest = e.as_coeff_Mul()
        if coeff.is_negative:
            return "-" + self._print_Mul_positive(-coeff, rest)
        return self._print_Mul_positive(coeff, rest)

    def _print_Mul_positive(self, coeff, rest):
        num, den = sp.fraction(coeff * rest)
        if den != 1:
            return f"{self.parenthesize(num, 50)}/{self.parenthesize(den, 51)}"
        factors = [f for f in ([coeff] if coeff != 1 else []) + list(sp.Mul.make_args(rest))]
        return " ".join(self.parenthesize(f, 50) for f in factors)

    def _print_Pow(self, e, rational=False):
        if e.exp == -1:
            return f"1/{self.parenthesize(e.base, 51)}"
        if e.exp == sp.Rational(1, 2):
            return f"√({self._print(e.base)})"
        if e.exp == sp.Rational(-1, 2):  # 1/√k, as the notes write the attention scale
            return f"1/√({self._print(e.base)})"
        return f"{self.parenthesize(e.base, 60)}^{self.parenthesize(e.exp, 60)}"

    def _print_Transpose(self, e):
        if isinstance(e.arg, sp.Inverse):  # (X⁻¹)ᵀ as X⁻ᵀ
            return f"{self._inverted(e.arg.arg)}⁻ᵀ"
        inner = self._print(e.arg)
        return f"{inner}ᵀ" if _is_application(e.arg) else f"({inner})ᵀ"

    def _inverted(self, M):
        inner = self._print(M)
        return inner if isinstance(M, sp.MatrixSymbol) else f"({inner})"

    def _print_Inverse(self, e):
        if isinstance(e.arg, sp.Transpose):  # (Xᵀ)⁻¹ as X⁻ᵀ
            return f"{self._inverted(e.arg.arg)}⁻ᵀ"
        return f"{self._inverted(e.arg)}⁻¹"

    def _print_MatPow(self, e):
        """A matrix power X², (A B)³ — a product, not an element-wise power (that is A^∘2)."""
        base = self._print(e.base)
        if not isinstance(e.base, sp.MatrixSymbol):
            base = f"({base})"
        exp = str(e.exp)
        if e.exp.is_Integer and e.exp > 0:
            return base + exp.translate(_SUPERSCRIPTS)
        return f"{base}^{self.parenthesize(e.exp, 60)}"

    def _print_KroneckerProduct(self, e):
        return " ⊗ ".join(self.parenthesize(a, 100) if isinstance(a, (sp.MatAdd, sp.MatMul)) else self._print(a)
                          for a in e.args)

    def _print_HadamardPower(self, e):
        base = self._print(e.base)
        if not _is_application(e.base):
            base = f"({base})"
        if e.exp == -1:
            return f"1/{base}"
        if e.base.shape == (1, 1) and e.exp.is_Integer:  # a power of a number: ‖v‖^3, 1/‖v‖^3
            return f"1/{base}^{-e.exp}" if e.exp < 0 else f"{base}^{e.exp}"
        return f"{base}^∘{self.parenthesize(e.exp, 60)}"

    def _print_Derivative(self, e):
        below = "".join(f"∂{self._print(v)}" for v in derivative_variables(e))
        order = len(e.variables)
        top = "∂" if order == 1 else "∂²" if order == 2 else f"∂^{order}"
        return f"{top}{self._print(e.expr)}/{below}"

    def _print_KroneckerDelta(self, e):
        return f"[{self._print(e.args[0])}={self._print(e.args[1])}]"

    def _rows(self, rows) -> str:
        """A matrix on one line, rows split by ``;``: [2 I, 0; 0, 2 I]."""
        return "[" + "; ".join(", ".join(self._print(x) for x in row) for row in rows) + "]"

    def _print_BlockMatrix(self, e):
        return self._rows(e.blocks.tolist())

    def _print_MatrixBase(self, e):
        return self._rows(e.tolist())

    _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase

    def _print_Equality(self, e):
        return f"{self._print(e.lhs)} = {self._print(e.rhs)}"


def latex(expr, **settings) -> str:
    return NotesLatexPrinter(settings).doprint(expr)


def plain(expr, rename=None) -> str:
    """A closed form as one line of Unicode text; ``rename`` maps symbol names (kernels' variables)."""
    return NotesStrPrinter(rename=rename).doprint(expr)
