"""What a proof run reports: one ``Check`` per proof and size, gathered in a ``Report``."""

from __future__ import annotations

from dataclasses import dataclass, field

from jacobian_sym.render.display import Displayed


@dataclass
class Check:
    name: str
    ok: bool
    sizes: dict
    error: float | None = None
    detail: str = ""

    def __str__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        err = "" if self.error is None else f"  rel. error {self.error:.1e}"
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name:<18} at {sizes}{err}  {self.detail}".rstrip()


@dataclass(repr=False)
class Report(Displayed):
    """Which proofs ran, at which sizes, with what error."""

    title: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def __str__(self):
        return "\n".join([self.title, *(f"  {c}" for c in self.checks)])

    def summary(self) -> str:
        failed = sum(not c.ok for c in self.checks)
        verdict = "all pass" if self.ok else f"{failed} FAIL" if self.checks else "no proof ran"
        return f"{self.title!r}: {len(self.checks)} proofs, {verdict}"

    def markdown(self) -> str:
        rows = ["| proof | sizes | rel. error | result |", "|---|---|---|---|"]
        for c in self.checks:
            sizes = ", ".join(f"{k}={v}" for k, v in c.sizes.items())
            err = "" if c.error is None else f"{c.error:.1e}"
            rows.append(f"| {c.name} | {sizes} | {err} | {'PASS' if c.ok else '**FAIL** ' + c.detail} |")
        return "\n".join([f"**Proofs of {self.title}**: {'all pass' if self.ok else 'FAIL'}", "", *rows])
