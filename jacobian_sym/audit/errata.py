"""The notes' errata: the audit of the notes' whole file (``notes_audit``, ``errata``), and the
statements that were once picked and encoded by hand (``audit_claims`` over ``NOTES_CLAIMS``), kept
as a regression test of the audit: every one of them it finds wrong, the audit finds on its own."""

from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np
import sympy as sp

from jacobian_sym.audit.context import read_context
from jacobian_sym.audit.driver import AuditReport, audit
from jacobian_sym.claims.decide import ClaimTarget, by_name, check, lhs_label
from jacobian_sym.claims.syntax import ClaimError
from jacobian_sym.models.backprop import Backprop
from jacobian_sym.models.model import Model
from jacobian_sym.notes.identities import NOTES_CLAIMS, Claim, ElementClaim
from jacobian_sym.ops.functions import explicit
from jacobian_sym.proofs.exact import is_zero_smooth
from jacobian_sym.proofs.explicit import Explicit, concrete_sizes
from jacobian_sym.proofs.guard import backprop
from jacobian_sym.proofs.guard import derive_identity as derive
from jacobian_sym.render.display import Displayed
from jacobian_sym.render.printers import plain


@dataclass(repr=False)
class Finding(Displayed):
    """One claim of the notes, as stated, and what the engine makes of it."""

    section: str
    stated: str
    ok: bool
    reason: str = ""
    counterexample: str = ""
    corrected: str = ""

    def __str__(self):
        lines = [f"§{self.section}  {self.stated}", f"    {'holds' if self.ok else 'why: ' + self.reason}"]
        if self.counterexample:
            lines.append(f"    counterexample: {self.counterexample}")
        if self.corrected:
            lines.append(f"    correction: {self.corrected}")
        return "\n".join(lines)

    def summary(self) -> str:
        return f"§{self.section}: {'holds' if self.ok else 'does not hold — ' + self.reason}"

    def markdown(self) -> str:
        lines = [f"**§{self.section}** {'holds' if self.ok else 'does not hold'}: ${self.stated}$"]
        if not self.ok:
            lines += ["", f"- why: {self.reason}"]
        if self.counterexample:
            lines.append(f"- counterexample: {self.counterexample}")
        if self.corrected:
            lines.append(f"- correction: {self.corrected}")
        return "\n".join(lines)


def _target_of(name, cache):
    """An identity, or one of the notes' model files shipped with the package (``jacobian_sym/data``,
    a copy of ``derivations/`` that a test keeps identical), so a plain install finds it."""
    if name not in cache:
        if name.endswith(".toml"):
            text = resources.files("jacobian_sym.notes").joinpath(name).read_text(encoding="utf-8")
            cache[name] = backprop(Model.parse(text, source=f"derivations/{name}"))
        else:
            cache[name] = derive(name)
    return cache[name]


class _Instance:
    """An explicit instance of an identity at concrete sizes, for element-level claims."""

    def __init__(self, d, sizes):
        self.d, self.sizes = d, sizes
        ex = Explicit(d, sizes)
        self.values = {k.name: v for k, v in ex.values.items() if isinstance(v, sp.MatrixBase)}
        self.truth = ex.truth().applyfunc(explicit)

    def m(self, name):
        return self.values[name].applyfunc(explicit)

    def size(self, name):
        return int(self.sizes[sp.Symbol(name, integer=True, positive=True)])

    diff = staticmethod(sp.diff)

    def all_entries(self):
        return [(i, j) for i in range(self.truth.rows) for j in range(self.truth.cols)]

    def exp_theta(self, j):
        return sp.exp(self.m("theta")[j])

    def d_sum_by_exp(self, j):
        u = sp.symbols(f"u0:{self.size('N')}", positive=True)
        return sp.diff(sum(u), u[j]).xreplace({u[k]: sp.exp(self.m("theta")[k]) for k in range(len(u))})


def _expr(value) -> sp.Expr:
    """A claim function's value (an int or a SymPy expression) as a SymPy expression."""
    return sp.Integer(value) if isinstance(value, int) else value


def _element_finding(claim, d, rng) -> Finding:

    for sizes in concrete_sizes(d):
        E = _Instance(d, sizes)
        shown = ", ".join(f"{k}={v}" for k, v in sizes.items())
        for i, j in claim.entries(E):
            try:
                got = _expr(claim.claimed(E, i, j))
            except IndexError:
                return Finding(claim.section, claim.stated, False, "a stated sum runs past the end of a vector",
                               f"at {shown}, entry ({i + 1}, {j + 1}) needs an element that does not exist")
            want = _expr(claim.truth(E, i, j))
            if not is_zero_smooth(sp.expand(got - want)):
                free = {s: sp.Rational(int(rng.integers(1, 9)), 5) for s in by_name((got - want).free_symbols)}
                finding = Finding(claim.section, claim.stated, False, "a mismatch at the element level",
                                  f"at {shown}, entry ({i + 1}, {j + 1}): as stated "
                                  f"{float(sp.N(got.xreplace(free))):.6g}, true {float(sp.N(want.xreplace(free))):.6g}"
                                  + (" (variables = multiples of 1/5)" if free else ""))
                if not claim.of_identity:
                    finding.corrected = f"the true value there: {sp.sstr(want)}"
                return finding
    return Finding(claim.section, claim.stated, True)


def _shape_finding(claim, bp) -> Finding:
    lhs, factors = bp.shape_table[claim.signal]
    derived = [lhs] + [f[1] for f in factors if f != "∘"]

    def same(stated, shape):
        names = tuple(str(s) for s in shape)
        if len(stated) == 1:
            return str(stated[0]) in names and "1" in names
        return tuple(str(s) for s in stated) == names

    ok = len(derived) == len(claim.shapes) and all(same(s, d) for s, d in zip(claim.shapes, derived))
    shown = " ; ".join("×".join(str(x) for x in d) for d in derived)
    return Finding(claim.section, claim.stated, ok, "" if ok else "the stated dimensions differ from the derived ones",
                   "", "" if ok else f"derived: {shown}")


def audit_claims(claims=None, seed: int = 0) -> list[Finding]:
    """The hand-encoded claims (``NOTES_CLAIMS``, or ``claims``), decided by the engine (the notes' own
    list is decided once per process: it depends on nothing a user can change)."""
    if claims is None:
        return [dataclasses.replace(f) for f in _notes_audit(seed)]
    return _audit(claims, seed)


@functools.cache
def _notes_audit(seed: int) -> tuple:
    return tuple(_audit(NOTES_CLAIMS, seed))


def _audit(claims, seed: int) -> list[Finding]:
    rng = np.random.default_rng(seed)
    cache: dict = {}
    findings = []
    for claim in claims:
        target = _target_of(claim.target, cache)
        if isinstance(claim, ElementClaim):
            f = _element_finding(claim, target, rng)
            if not f.ok and not f.corrected:
                f.corrected = f"derived: {plain(target.steps[-2].lhs)} = {plain(target.index_form)}"
            findings.append(f)
            continue
        if not isinstance(claim, Claim):
            findings.append(_shape_finding(claim, target))
            continue
        try:
            v = check(target, claim.wrt, claim.claim, seed=seed)
        except ClaimError as err:  # as stated, the right-hand side does not even type-check
            message = str(err).split(": ", 1)[-1]
            expected = ClaimTarget(target, claim.wrt, "numerator").expected
            findings.append(Finding(claim.section, claim.stated, False, f"shape: {message}", "",
                                    f"derived: {lhs_label(claim.wrt)} = {plain(expected)}"))
            continue
        f = Finding(claim.section, claim.stated, v.ok, v.reason)
        if v.counterexample:
            c = v.counterexample
            f.counterexample = (f"at {', '.join(f'{k}={n}' for k, n in c['sizes'].items())}, entry "
                                f"({c['entry'][0]}, {c['entry'][1]}): as stated {c['claim']:.6g}, "
                                f"true {c['true']:.6g}")
        if not v.ok:
            name = v.wrt
            f.corrected = f"derived: {lhs_label(name)} = {plain(v.expected)}"
            if isinstance(target, Backprop):
                for other in target.gradients:
                    if other != name and check(target, other, claim.claim, seed=seed).ok:
                        f.corrected += f"; the stated right-hand side is ∂J/∂{other}"
        findings.append(f)
    return findings


NOTES = "computing-neural-network-gradients.md"
NOTES_CONTEXT = "notes.context.toml"


def notes_text() -> str:
    """The notes' text, shipped with the package (a copy of the reference text)."""
    return resources.files("jacobian_sym.notes").joinpath(NOTES).read_text(encoding="utf-8")


@functools.cache
def _notes_report(seed: int) -> AuditReport:
    context = resources.files("jacobian_sym.notes").joinpath(NOTES_CONTEXT).read_text(encoding="utf-8")
    report = audit(notes_text(), read_context(context, source=f"derivations/{NOTES_CONTEXT}"), seed=seed,
                   kind="markdown")
    report.source = NOTES
    return report


def notes_audit(seed: int = 0) -> AuditReport:
    """The audit of the notes' whole file with ``derivations/notes.context.toml`` (computed once per process)."""
    return copy.deepcopy(_notes_report(seed))


def errata(seed: int = 0) -> list:
    """The links of the notes that are wrong values, each with why, a counterexample and the derived form."""
    return notes_audit(seed).failing
