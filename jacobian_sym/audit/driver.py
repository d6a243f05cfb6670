"""``js.audit``: read a document, decide every link, and report what was and was not checked."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import sympy as sp

from jacobian_sym.audit import einstein
from jacobian_sym.audit import verdicts as A
from jacobian_sym.audit.context import read_context, symbols_of
from jacobian_sym.audit.corrections import derived
from jacobian_sym.audit.document import read_document
from jacobian_sym.audit.reading import display_of, index_only, parse_side, read_scopes
from jacobian_sym.audit.report import DEFINITION, AuditReport
from jacobian_sym.audit.values import Evaluator, IllFormed, Undecidable, scalar_of, shape_of
from jacobian_sym.base.files import read_text_capped
from jacobian_sym.base.shape_args import checked_shapes
from jacobian_sym.claims import latex
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.render.printers import plain


def _source_text(source) -> tuple[str, str, str]:
    """(text, name, kind) of a path or of the text itself."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and len(source) < 4096
                                    and (source.endswith((".md", ".tex", ".markdown", ".txt")))):
        path = Path(source)
        text = read_text_capped(path, "document")
        if "\0" in text[:4096]:
            raise JacobianSymError(f"{path}: not a text file")
        kind = "latex" if path.suffix == ".tex" else "markdown"
        return text, str(path), kind
    if not isinstance(source, str):
        raise JacobianSymError(f"audit takes a path or the document's text, not {type(source).__name__}")
    return source, "document", None


def _context(context) -> dict:
    if context is None:
        return {}
    if isinstance(context, dict):
        return context
    if isinstance(context, Path) or (isinstance(context, str) and context.endswith(".toml") and "\n" not in context):
        path = Path(context)
        return read_context(read_text_capped(path, "context file"), source=str(path))
    return read_context(context)


def audit(source, context=None, *, shapes: dict | None = None, seed: int = 0, kind: str | None = None,
          progress=None) -> AuditReport:
    """Every equation of a Markdown or LaTeX document, decided (see ``audit/verdicts.py``).

    ``source`` is a path (``.md``, ``.tex``) or the text; ``context`` a context file (path or TOML
    text) for what the document does not say; ``shapes`` maps names to ``(rows, cols)`` for all sections;
    ``progress(done, total, what)`` is told before each statement.
    """
    start = time.perf_counter()
    text, name, guessed = _source_text(source)
    doc = read_document(text, name, kind or guessed)
    reading = read_scopes(doc, _context(context), checked_shapes(shapes))
    report = AuditReport(name, [], notes=list(doc.notes))
    zero_set = None  # the prose of a display that sets something to zero, once its "= 0" is seen
    cuts = []
    for done, stmt in enumerate(doc.statements):
        if progress:
            progress(done, len(doc.statements), f"line {stmt.line}")
        scope = reading.scopes.get(stmt.section.path, reading.scopes[()])
        if stmt.display and _SETS_ZERO.search(stmt.prose or ""):
            first = 0 if zero_set == stmt.prose else next(
                (k for k, side in enumerate(stmt.sides) if side.text.strip() == "0"), None)
            if first is not None:
                zero_set = stmt.prose
                if first > 1:  # the chain before its "= 0" is a claim like any other
                    cuts.append(_cut(stmt, first))  # kept alive: the reader's caches go by id
                    _audit_statement(cuts[-1], scope, reading, report, seed)
                for k in range(max(first, 1), len(stmt.sides)):
                    report.links.append(_link(stmt, k, A.UNDECIDABLE, "a condition the text sets (\"setting it "
                                              "equal to zero\"), and what follows from it: not an identity"))
                continue
        _audit_statement(stmt, scope, reading, report, seed)
    report.seconds = time.perf_counter() - start
    return report


#: the prose before a chain of notations: "the following expressions are equivalent", "the following
#: notational conventions … all mean the same thing" (d2l: f'(x) = y' = dy/dx = … = D_x f(x))
_NOTATIONS = re.compile(r"(?:notational conventions?|notations?)\b[^.]{0,80}(?:equivalent|mean the same|same thing)"
                        r"|following expressions are equivalent", re.I)

#: the prose of an optimality condition: "setting it equal to zero yields", "set the gradient to 0"
_SETS_ZERO = re.compile(r"\bsett?(?:ing)?\b[^.]{0,40}\b(?:equal to |to )(?:zero|0)\b", re.I)


def _cut(stmt, first):
    """The statement's chain up to side ``first`` (excluded)."""
    return dataclasses.replace(stmt, sides=stmt.sides[:first])


def _link(stmt, k, verdict, reason="", **kw):
    left = stmt.sides[k - 1].text if k > 0 else ""
    side = stmt.sides[k]
    return A.Link(stmt.section.label(), side.line, side.col, left, side.text, verdict, reason,
                  stated_reason=side.reason, **kw)


def _audit_statement(stmt, scope, reading, report, seed):
    if stmt.relation != "=":
        return
    trees = [parse_side(stmt, k, reading) for k in range(len(stmt.sides))]
    if all(index_only(t, scope) for t in trees):
        return  # "l = 1", "k = i": a statement about indices, not values
    again = report.__dict__.get("_redefined", {}).get(stmt.section.path, {})
    read = sorted(n for n in _names_read(scope, trees) if n in again) if again else []
    if read:
        for k in range(1, len(stmt.sides)):
            report.links.append(_link(stmt, k, A.UNDECIDABLE, f"{read[0]} is defined again on line {again[read[0]]} "
                                      "for another example: which one this line reads is not clear"))
        return
    role = reading.roles.get(id(stmt))
    if stmt.display and len(stmt.sides) > 2 and _NOTATIONS.search(stmt.prose or ""):
        report.definitions.append(_link(stmt, 1, DEFINITION, "a list of notations for one thing, as the text "
                                                             "says: not identities"))
        return
    if role is None and _sets_a_value(trees, scope):
        report.definitions.append(_link(stmt, 1, DEFINITION, "a value the text sets (an example's input), "
                                                             "not an identity"))
        return
    # matrix displays with dots: a claim about index ranges (or, when they gave the shape, a declaration)
    for k in range(len(stmt.sides)):
        tree = parse_side(stmt, k, reading)
        if display_of(tree) is not None:
            if role == "display":
                report.definitions.append(_link(stmt, k, DEFINITION, "gives the shape"))
            else:
                verdict, why = A.decide_display(tree, scope)
                report.links.append(_link(stmt, k, verdict, why if verdict != A.HOLDS else "", decided=why))
            return
    if len(stmt.sides) < 2:
        if isinstance(trees[0], Exception) and _equation_like(stmt.sides[0].text, trees[0]):
            report.links.append(_link(stmt, 0, A.UNDECIDABLE, f"the reader cannot read it: {trees[0].message}"))
        return
    first = 1
    if role in ("definition", "declaration"):
        report.definitions.append(_link(stmt, 1, DEFINITION, "read as context" + _again(trees[0], scope)))
        first = 2
    sides = [A.ReadSide(stmt, k, reading, scope) for k in range(len(stmt.sides))]
    usable = [_usable(s, scope) for s in sides]
    ref = next((k for k, why in enumerate(usable) if why is None), None)
    results = {}
    for k in range(first, len(sides)):
        if usable[k] is not None:
            results[k] = (A.UNDECIDABLE, usable[k], None)
        elif ref is None or ref >= k:
            why = next((usable[j] for j in range(k) if usable[j]), None)
            results[k] = (A.UNDECIDABLE, f"the side before it has no value: {why}" if why else
                          "no side before it has a value", None)
        elif (reading.einstein is None or stmt.line < reading.einstein) and \
                (implied := _implied_sum(sides[ref], sides[k], scope)):
            results[k] = (A.UNDECIDABLE, f"the index {implied} is repeated in a product with no Σ written, and the "
                          "other side does not have it: a sum the line does not write (Einstein's convention? "
                          "say so in the text)", None)
        else:
            results[k] = _decide(sides[ref], sides[k], scope, stmt, seed)
    # the first side is the odd one out when the rest agree among themselves
    if ref == 0 and first == 1 and len(sides) > 2 and results.get(1, ("",))[0] == A.FAILS and \
            all(usable[k] is None for k in range(1, len(sides))):
        again = {k: _decide(sides[1], sides[k], scope, stmt, seed) for k in range(2, len(sides))}
        if all(r[0] in (A.HOLDS, A.NOTATION) for r in again.values()):
            results.update(again)
            verdict, reason, extra = results[1]
            meant = _meant_head(sides[0], sides[1], scope, stmt, seed)
            head = sides[0].tree
            about = (f"; the rest of the chain is {plain(sp.Derivative(sp.Symbol(head[1][1]), sp.Symbol(meant)))}"
                     if meant else "")
            results[1] = (verdict, f"the first side is the one that differs (the rest of the chain agrees){about}: "
                          f"{reason}", extra)
            if meant:
                fixed = derived(scope, ("deriv", head[1], ("sym", meant, (), 0), (), 0))
                if fixed:
                    extra["corrected"], extra["corrected_latex"] = fixed
    if stmt.shapes and stmt.cells:
        report.links.append(_dimensions(stmt, scope))
    foreign = _foreign(_borrowed(trees, scope), scope)
    for k in range(first, len(sides)):
        verdict, reason, extra = results[k]
        if verdict == A.FAILS and foreign and reason.startswith(_SHAPE_FAILURES):
            # a shape that fails through a name this section took from an earlier one whose sizes it
            # does not use: that meaning does not fit here (silence, not a false alarm)
            name = foreign[0]
            verdict, reason, extra = A.UNDECIDABLE, (
                f"{name} is not defined in {scope.label}, and {scope.inherited[name]}'s {name} does not fit here "
                f"({reason})"), None
        if verdict == A.FAILS and k == 1 and _signature(trees[0]):
            # f(x, y) = x + y after f(x, y) = x y: the text defines f again for its next example
            report.definitions.append(_link(stmt, 1, DEFINITION, f"defines {trees[0][1][1]} again for another "
                                                                 "example (its earlier definition does not hold here)"))
            report.__dict__.setdefault("_redefined", {}).setdefault(stmt.section.path, {})[trees[0][1][1]] = stmt.line
            continue
        link = _link(stmt, k, verdict, reason, **(extra or {}))
        if verdict == A.FAILS and ref is not None and not link.corrected:
            _correct(link, sides[ref], scope, stmt, k)
        report.links.append(link)


def _implied_sum(a, b, scope) -> str | None:
    """An index one side repeats in a product (x_i a_ij x_j) that the other side does not have free (a
    size, as the n of β_n x_n, is no index)."""
    for one, other in ((a, b), (b, a)):
        if one.error is None and other.error is None:
            extra = sorted(ix for ix in einstein.repeated(one.tree) - set(other.free) if not scope.is_size(ix))
            if extra:
                return extra[0]
    return None


def _signature(tree) -> bool:
    """``f(x, y)``: a name applied to bare variables, as a definition's left side is written."""
    return not isinstance(tree, Exception) and tree[0] == "apply" and tree[1][0] == "sym" and not tree[1][2] \
        and bool(tree[2]) and all(a[0] == "sym" and not a[2] for a in tree[2])


def _sets_a_value(trees, scope) -> bool:
    """``y = 2`` where y is a variable or was itself set to a number (``if x = 4, y = -3`` … ``if the
    inputs are x = 4, y = 2``): the text sets a value for an example; it is no identity to check."""
    if len(trees) != 2 or any(isinstance(t, Exception) for t in trees):
        return False
    left, right = trees
    if left[0] != "sym" or left[2] or any(n[0] == "sym" for n in latex.walk(right)):
        return False
    var = scope.var(left[1])
    return var is None or var.kind == "leaf" or (
        var.kind == "defined" and var.definition is not None
        and not any(n[0] == "sym" for n in latex.walk(var.definition)))


def _again(left, scope) -> str:
    """"; defines z again …" when an earlier section defined or declared the name this line defines."""
    if isinstance(left, Exception) or left[0] != "sym":
        return ""
    name = left[1] if not left[2] else f"{left[1]}_{''.join(map(str, left[2]))}"
    for earlier in scope.earlier:
        var = earlier.vars.get(name)
        if var is not None and (var.kind in ("defined", "loss_of") or var.origin):
            source = earlier.inherited.get(name, earlier.label)
            return f"; defines {name} again (the meaning {source} gave it does not hold here)"
    return ""


#: the reasons of a failure that is about shapes, not values
_SHAPE_FAILURES = ("shape", "as written it has no value", "an index range", "a wrong summation range")


def _names_read(scope, trees) -> set:
    """The names a link reads, directly or through the definitions (and signals) of what it reads."""
    seen, stack = set(), [n for t in trees if not isinstance(t, Exception) for n in symbols_of(t)]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        var = scope.vars.get(name)
        if var is not None:
            stack.extend(n for n in (var.signal, var.of, *symbols_of(var.definition)) if n)
    return seen


def _borrowed(trees, scope) -> list:
    """The names a statement reads that its section took from an earlier section."""
    return sorted(n for n in _names_read(scope, trees) if n in scope.inherited)


def _foreign(borrowed, scope) -> list:
    """The borrowed names whose sizes the section's own names do not use (§2.7's x of size m, taken
    from §2.5, beside its own ŷ of size N); none when the section has no sized names of its own."""
    def sizes(var):
        return {d for d in var.shape if isinstance(d, str) and not d.startswith("?")}

    own = set().union(*(sizes(v) for n, v in scope.vars.items() if n not in scope.inherited))
    return [n for n in borrowed if own and sizes(scope.vars[n]) - own]


def _dimensions(stmt, scope):
    """The notes' dimension check: a shape written under each factor of the row above it."""
    world = A.worlds(scope)[0]
    names = {v: k for k, v in world.sizes.items()}
    checked, wrong = 0, []
    for cell, stated in zip(stmt.cells, stmt.shapes):
        if not cell or not stated or cell in ("=", r"\circ", "◦", r"\odot"):
            continue
        try:
            value = Evaluator(world, {}).value(latex.read(cell))
            shape = tuple(names.get(d, str(d)) for d in shape_of(scalar_of(value)))
        except (latex.LatexError, Undecidable, IllFormed):
            continue
        want = tuple(p.strip().replace("{", "").replace("}", "") for p in stated.strip("() ").split(r"\times"))
        checked += 1
        ok = shape == want if len(want) == 2 else (want[0] in shape and "1" in shape)
        if not ok:
            wrong.append(f"{cell} is {'×'.join(shape)}, the table says {stated}")
    side = stmt.sides[0]
    text = " ".join(stmt.shapes)
    if not checked:
        return A.Link(stmt.section.label(), side.line, side.col, "", f"dimensions: {text}", A.UNDECIDABLE,
                      "no column of the dimension table could be given a shape")
    verdict = A.FAILS if wrong else A.HOLDS
    return A.Link(stmt.section.label(), side.line, side.col, "", f"dimensions: {text}", verdict,
                  "; ".join(wrong), decided=f"{checked} columns compared")


def _equation_like(text, error) -> bool:
    """Math the reader could not split into sides but that holds an equation (an = outside braces, or
    braces that do not balance): a link the audit reports as not decidable rather than skips."""
    if "unbalanced" in error.message:
        return "=" in text
    depth = 0
    for ch in text:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "=" and depth == 0:
            return True
    return False


def _meant_head(head, second, scope, stmt, seed):
    """∂J/∂V for the variable V the rest of a chain is about, when its first side names another."""
    tree = head.tree
    if tree[0] != "deriv" or tree[2][0] != "sym":
        return ""
    candidates = sorted(scope.vars.items(), key=lambda item: item[1].kind != "leaf")  # parameters first
    for name, var in candidates:
        if var.kind not in ("leaf", "defined") or name == tree[2][1]:
            continue
        probe = A.ReadSide.probe(head, ("deriv", tree[1], ("sym", name, (), 0), (), 0), free=[])
        try:
            if A.decide(probe, second, scope, stmt, seed).verdict in (A.HOLDS, A.NOTATION):
                return name
        except (Undecidable, IllFormed):
            continue
    return ""


def _usable(side, scope):
    """None when the side can be given a value, else why not (reason for "not decidable")."""
    if side.error is not None:
        return f"the reader cannot read it: {side.error.message} (line {side.side.line})"
    world = A.worlds(scope)[0]
    try:  # each free index at its first value (its range may come from the other side)
        Evaluator(world, {ix: 0 for ix in side.free}).value(side.tree)
    except Undecidable as err:
        return str(err)
    except IllFormed:
        return None
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, IndexError, sp.SympifyError):
        return f"{_side_name(side)} has no value the reader can compute at concrete sizes"
    return None


def _side_name(side) -> str:
    text = side.side.text.strip()
    return f"`{text}`" if len(text) <= 40 else "this side"


def _decide(ref, other, scope, stmt, seed):
    verdict, reason, extra = _decided(ref, other, scope, stmt, seed)
    if verdict != A.FAILS:
        return verdict, reason, extra
    guessed = _guessed_names(scope, (ref.tree, other.tree))
    if guessed:  # never a wrong value from a shape the document does not give
        names = ", ".join(guessed)
        return (A.UNDECIDABLE, f"the shape of {names} is not given (no line declares or defines it), and the "
                f"guess does not fit: {reason}", None)
    unrelated = _unrelated_derivative(scope, (ref.tree, other.tree))
    if unrelated:  # ∂a/∂u with a, as defined, not reading u: the line is about another dependency
        top, by = unrelated
        return (A.UNDECIDABLE, f"∂{top}/∂{by} is a factor, but {top} as the document defines it does not depend "
                f"on {by}: the line is about other dependencies than the definitions ({reason})", None)
    return verdict, reason, extra


def _unrelated_derivative(scope, trees):
    """(a, u) of a factor ∂a/∂u where a is defined and, through its definitions, reads no u (a
    derivative a writer sets down only for a dependency the document's definitions do not have)."""
    for tree in trees:
        for node in latex.walk(tree):
            if node[0] != "deriv" or node[1][0] != "sym" or node[2][0] != "sym" or node[1][2] or node[2][2]:
                continue
            top, by = node[1][1], node[2][1]
            var, wrt = scope.vars.get(top), scope.vars.get(by)
            if var is None or wrt is None or var.kind != "defined" or var.definition is None:
                continue
            if by not in _names_read(scope, [("sym", top, (), 0)]) - {top}:
                return top, by
    return None


def _guessed_names(scope, trees) -> list[str]:
    """The names a link reads, itself or through definitions, whose shapes have a guessed size."""
    if not scope.guessed:
        return []
    return sorted(n for n in _names_read(scope, trees)
                  if n in scope.vars and any(d in scope.guessed for d in scope.vars[n].shape))


def _decided(ref, other, scope, stmt, seed):
    try:
        c = A.decide(ref, other, scope, stmt, seed)
    except Undecidable as err:
        return A.UNDECIDABLE, str(err), None
    except IllFormed as err:
        reason = A.sum_range_error(other.tree, scope)
        if str(err).startswith("an index mismatch"):
            return A.FAILS, str(err), {"notation": []}
        return A.FAILS, (f"{reason} ({err})" if reason else f"as written it has no value: {err}"), {"notation": []}
    extra = {"notation": list(c.notes)}
    if c.verdict in (A.HOLDS, A.NOTATION):
        return c.verdict, "", extra
    if c.verdict == A.CONDITIONAL:
        return c.verdict, c.reason, extra
    reason = c.reason or A.kind_of_failure(ref, other, scope, stmt, seed, c.where) or \
        "a mismatch: the two sides differ"
    if c.where:
        extra["counterexample"] = _counterexample(c.where, _sizes_read(scope, (ref.tree, other.tree)))
    return A.FAILS, reason, extra


def _sizes_read(scope, trees) -> set:
    """The sizes a link depends on: those its names' shapes (and their definitions') have, and the
    sizes it names itself (a sum to N), so a counterexample leaves out an earlier section's m."""
    out = set()
    for name in _names_read(scope, trees):
        if scope.is_size(name):
            out.add(name)
        if name in scope.vars:
            out.update(d for d in scope.vars[name].shape if isinstance(d, str))
    return out


def _counterexample(where, read):
    (entry, claimed, true, _point), world, assignment = where
    parts = [f"{k}={v}" for k, v in world.sizes.items() if k in read]
    parts += [f"{k}={v + 1}" for k, v in assignment.items()]
    at = "at " + ", ".join(parts) if parts else "at"
    r, c = entry
    return (f"{at}, entry ({r + 1}, {c + 1}), at random rational values: left {_show(true)}, "
            f"right {_show(claimed)}")


def _show(z):
    if z is None:
        return "undefined"
    return f"{z.real:.6g}" if abs(z.imag) < 1e-30 else f"{z:.6g}"


def _by_name(value, scope):
    """The symbols a derivative by a defined name put in its place, as that name: ∂z²/∂z is 2z, not
    the 2(wᵀx + b) that putting z's value back gives (d_z_0_0 → z for a scalar z, z₁ for a vector's)."""
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: _by_name(e, scope))
    mapping = {}
    for s in getattr(value, "free_symbols", ()):
        parts = s.name.split("_")
        if len(parts) != 4 or parts[0] != "d" or not (parts[2].isdigit() and parts[3].isdigit()):
            continue
        var = scope.var(parts[1])
        if var is None or var.kind != "defined":
            continue
        i, j = int(parts[2]) + 1, int(parts[3]) + 1
        sub = "" if var.shape == (1, 1) else f"_{i}" if var.shape[1] == 1 else f"_{j}" if var.shape[0] == 1 \
            else f"_{i}{j}"
        mapping[s] = sp.Symbol(f"{parts[1]}{sub}", real=True)
    return value.xreplace(mapping) if mapping else value


def _readable(value, scope):
    """Element symbols as the document writes them, from 1: x_0_0 → x₁ (a vector), W_0_1 → W₁₂."""
    mapping = {}
    for s in value.free_symbols:
        parts = s.name.rsplit("_", 2)
        if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
            continue
        var = scope.var(parts[0])
        if var is None:
            continue
        i, j = int(parts[1]) + 1, int(parts[2]) + 1
        sub = f"{i}" if var.shape[1] == 1 else f"{j}" if var.shape[0] == 1 else f"{i}{j}"
        mapping[s] = sp.Symbol(f"{parts[0]}_{sub}", real=True)
    return value.xreplace(mapping)


def _correct(link, ref, scope, stmt, k):
    found = derived(scope, ref.tree) if ref.tree[0] == "deriv" else None
    if found:
        link.corrected, link.corrected_latex = found
        return
    try:  # the true value, simplified, when it is short and the same for every value of the indices
        world = A.worlds(scope)[0]
        values = {world.put_back(_by_name(scalar_of(Evaluator(world, assignment).value(ref.tree)), scope))
                  for assignment in A.assignments(A.index_ranges([ref], scope, world, {}))}
        if len(values) != 1:
            return
        value = values.pop()
        value = sp.simplify(world.put_back(value) if not isinstance(value, sp.MatrixBase) else
                            value.applyfunc(world.put_back))
        value = _readable(value, scope)
        shown = plain(value) if not isinstance(value, sp.MatrixBase) else plain(sp.ImmutableMatrix(value))
        if len(shown) <= 60:
            link.corrected = f"the left side is {shown}"
    except (Undecidable, IllFormed, TypeError, ValueError, AttributeError):
        pass


__all__ = ["audit", "AuditReport"]
