"""The NumPy backend: the plan run as the planner writes it (``generate.numpy_source``), with the input
checks' fast path and the runtime of ``kernels/runtime.py``. The table is empty: the planner's dialect
is NumPy's."""

from __future__ import annotations

from jacobian_sym.kernels.generate import Plan, numpy_source

NAME = "numpy"
IMPORTS = (("numpy", "np"),)
MODULE_NAMES = frozenset({"np"})
TABLE: dict = {}


def source(p: Plan, title: str) -> str:
    return numpy_source(p, title)


def statements(fname: str) -> frozenset[str]:
    return frozenset()
