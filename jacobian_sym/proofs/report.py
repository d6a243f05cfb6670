"""What a proof run reports: one ``Check`` per proof and size, gathered in a ``Report``."""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class Report:
    """Which proofs ran, at which sizes, with what error."""

    title: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def __str__(self):
        return "\n".join([self.title, *(f"  {c}" for c in self.checks)])
