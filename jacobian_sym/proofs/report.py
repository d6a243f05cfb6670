"""What a proof run reports: one ``Check`` per proof and size, gathered in a ``Report``."""

from __future__ import annotations

from dataclasses import dataclass, field

from jacobian_sym.render.display import Displayed


def _word(ok) -> str:
    return "UNDECIDED" if ok is None else "PASS" if ok else "FAIL"


@dataclass
class Check:
    name: str
    #: True (passes), False (fails), None (undecided: no point could tell, e.g. units never on)
    ok: bool | None
    sizes: dict
    error: float | None = None
    detail: str = ""

    def __str__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        err = "" if self.error is None else f"  rel. error {self.error:.1e}"
        return f"{_word(self.ok)}  {self.name:<18} at {sizes}{err}  {self.detail}".rstrip()


@dataclass(repr=False)
class Report(Displayed):
    """Which proofs ran, at which sizes, with what error."""

    title: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool | None:
        """False when a proof fails, None when none fails but one is undecided, else True."""
        if not self.checks or any(c.ok is False for c in self.checks):
            return False
        return None if any(c.ok is None for c in self.checks) else True

    def __str__(self):
        return "\n".join([self.title, *(f"  {c}" for c in self.checks)])

    def summary(self) -> str:
        failed = sum(c.ok is False for c in self.checks)
        undecided = sum(c.ok is None for c in self.checks)
        verdict = ("all pass" if self.ok else f"{failed} FAIL" if failed else f"{undecided} UNDECIDED"
                   if self.checks else "no proof ran")
        return f"{self.title!r}: {len(self.checks)} proofs, {verdict}"

    def markdown(self) -> str:
        rows = ["| proof | sizes | rel. error | result |", "|---|---|---|---|"]
        for c in self.checks:
            sizes = ", ".join(f"{k}={v}" for k, v in c.sizes.items())
            err = "" if c.error is None else f"{c.error:.1e}"
            rows.append(f"| {c.name} | {sizes} | {err} | {'PASS' if c.ok else f'**{_word(c.ok)}** ' + c.detail} |")
        head = "all pass" if self.ok else _word(self.ok)
        return "\n".join([f"**Proofs of {self.title}**: {head}", "", *rows])
