"""Generated NumPy kernels: ``codegen`` (standalone source), ``kernel`` (a callable) and ``gradcheck``.

A kernel computes the loss and every requested gradient in one forward and one backward pass, from
the derived closed forms; see ``generate.py`` for what the generated module contains.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import JacobianSymError
from .generate import function_name, source


class KernelInputError(JacobianSymError):
    """Arrays that do not fit the model: missing, extra, mis-shaped, integer, non-finite, not one-hot."""


def codegen(bp) -> str:
    """The source of a standalone Python module (NumPy only) for ``bp``'s model."""
    return source(bp)


def _load(text: str, name: str):
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "jacobian_sym_kernels"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}_{digest}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{digest}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    module_name = f"jacobian_sym_kernel_{name}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[module_name] = module
    return module


@dataclass
class Kernel:
    """``f(**arrays) -> {"J": loss, "<variable>": gradient, …}`` for one model."""

    name: str
    source: str = field(repr=False)
    module: object = field(repr=False)

    @property
    def inputs(self) -> dict:
        """Each array's name and its shape in size names (e.g. x: ("D_x", "B"))."""
        return dict(self.module.SPEC)

    def __call__(self, check: bool = True, **arrays) -> dict:
        """Loss and gradients; ``check=False`` skips the input checks (see the generated docstring)."""
        try:
            return getattr(self.module, self.name)(check=check, **arrays)
        except self.module.InputError as err:
            raise KernelInputError(str(err)) from None
        except TypeError as err:  # a keyword the function does not take
            raise KernelInputError(str(err)) from None


def kernel(bp) -> Kernel:
    """The NumPy kernel of a derived backprop (batched; float32 stays float32)."""
    text = source(bp)
    name = function_name(bp)
    return Kernel(name, text, _load(text, name))


@dataclass
class Gradcheck:
    """Central finite differences against a kernel's gradients: norm-wise relative errors."""

    errors: dict
    tolerance: float

    @property
    def ok(self) -> bool:
        return all(e <= self.tolerance for e in self.errors.values())

    def __str__(self):
        return "\n".join(f"{'PASS' if e <= self.tolerance else 'FAIL'}  d{'J'}/d{k}  rel. error {e:.1e}"
                         for k, e in self.errors.items())


def gradcheck(f, arrays: dict, *, h: float = 1e-6, tolerance: float = 1e-6, max_elements: int = 200,
              seed: int = 0) -> Gradcheck:
    """Compare ``f``'s gradients with central differences of its loss (in float64)."""
    from .numeric import central_difference, rel_error, sample_indices

    rng = np.random.default_rng(seed)
    base = {k: np.array(v, dtype=np.float64) for k, v in arrays.items()}
    out = f(**base)
    errors = {}
    for name, grad in out.items():
        if name == "J":
            continue
        indices = sample_indices(base[name].shape, max_elements, rng)
        want = [central_difference(lambda a: f(**a)["J"], base, name, idx, h) for idx in indices]
        got = [np.asarray(grad)[idx] for idx in indices]
        errors[name] = rel_error(got, want)
    return Gradcheck(errors, tolerance)
