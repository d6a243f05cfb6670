"""Generated NumPy kernels: ``codegen`` (standalone source), ``kernel`` (a callable) and ``gradcheck``.

A kernel computes the loss and every requested gradient in one forward and one backward pass, from
the derived closed forms; see ``generate.py`` for what the generated module contains.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.util
import linecache
import threading
from dataclasses import dataclass, field

import numpy as np

from jacobian_sym.engine.derive import Derivation
from jacobian_sym.errors import JacobianSymError, LabelRangeError, SingularMatrixError
from jacobian_sym.kernels.backends import get_backend
from jacobian_sym.kernels.closed_kernel import check_derivation_kernel, derivation_source
from jacobian_sym.kernels.generate import KernelError, batched_backprop, function_name, plan
from jacobian_sym.kernels.labels import taking_one_hot
from jacobian_sym.kernels.numeric import central_difference, sample_indices
from jacobian_sym.kernels.self_check import check_kernel
from jacobian_sym.kernels.source_audit import audit_source
from jacobian_sym.kernels.structure_checks import declared_symmetric, tied_refusal
from jacobian_sym.render.display import Displayed


class KernelInputError(JacobianSymError):
    """Arrays that do not fit the model: missing, extra, mis-shaped, integer, non-finite, not one-hot."""


def codegen(bp, backend: str = "numpy") -> str:
    """The source of a standalone Python module for ``bp``'s model on ``backend`` ("numpy": NumPy
    only; "jax", "torch": see ``kernels/backends``); the same source ``kernel`` loads, so it has passed
    the same checks (generating a JAX or PyTorch module loads it, so that engine must be installed).
    For one derivation (a gradient, a Hessian) it is the source of that derivation's NumPy kernel."""
    if isinstance(bp, Derivation):
        return kernel(bp, backend=backend).source
    return _built(bp, backend)[0]


class _TextLoader(importlib.abc.InspectLoader):
    """Loads a module from text in memory: no file is written, so no file can be swapped in."""

    def __init__(self, text: str, filename: str):
        self.text, self.filename = text, filename

    def get_source(self, fullname):
        return self.text

    def get_code(self, fullname):
        return compile(self.text, self.filename, "exec", dont_inherit=True)


#: CPython 3.11's parser keeps a recursion counter that concurrent ast.parse/compile calls corrupt
#: ("AST constructor recursion depth mismatch"): loads take turns
_LOADING = threading.Lock()


def _load(text: str, name: str, backend: str = "numpy"):
    """The generated module, audited, then loaded from memory (its source kept for tracebacks)."""
    with _LOADING:
        return _load_unlocked(text, name, backend)


def _load_unlocked(text: str, name: str, backend: str = "numpy"):
    audit_source(text, **get_backend(backend).audit_options(name))
    if backend != "numpy":
        _require(backend)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    filename = f"<jacobian_sym kernel {name} {digest}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    spec = importlib.util.spec_from_loader(f"jacobian_sym_kernel_{name}_{digest}", _TextLoader(text, filename),
                                           origin=filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _require(backend: str) -> None:
    """A one-line error when the engine of ``backend`` is not installed (it is an optional peer)."""
    if importlib.util.find_spec(backend) is None:
        raise KernelError(f"the {backend} backend needs {backend} installed (pip install 'jacobian_sym[backends]')")


def _built(bp, backend: str = "numpy") -> tuple[str, object]:
    """The source and loaded module of ``bp``'s kernel on ``backend``, checked once per backprop and
    cached on it: every door of the module (the checked function; the custom_vjp or autograd Function)
    passes the self-check."""
    engine = get_backend(backend)
    key = "kernel" if backend == "numpy" else f"kernel:{backend}"
    cached = bp.cache.get(key)
    if cached is None:
        if backend != "numpy":
            _require(backend)
            refusal = tied_refusal(bp, engine.words)
            if refusal:
                raise KernelError(refusal)
        b = batched_backprop(bp)
        p = plan(bp, b)
        text = engine.source(p, bp.model.title)
        name = function_name(bp)
        module = _load(text, name, backend)
        one = bp.graph if bp.model.batch is None else None  # a batch is compared with its examples one by one
        for door in engine.adapters(module, name, b.gradients):
            problem = check_kernel(taking_one_hot(door, p.labels), b, one=one)
            if problem is not None:
                raise KernelError(f"refusing the generated {engine.words} of {bp.model.title!r}: {problem}")
        cached = bp.cache[key] = (text, module)
    return cached


@dataclass(repr=False)
class Kernel(Displayed):
    """``f(**arrays) -> {"J": loss, "<variable>": gradient, …}`` for one model."""

    name: str
    source: str = field(repr=False)
    module: object = field(repr=False)
    #: the inputs whose values are restricted (a BCE label: "probability"), for random test data
    domains: dict = field(default_factory=dict, repr=False)
    #: what a call returns, in words
    returns: str = field(default="J and its gradients", repr=False)
    #: the engine it runs on ("numpy", "jax", "torch")
    backend: str = field(default="numpy", repr=False)

    def __getstate__(self):
        """Pickled as its source: the module is loaded again (audited, from memory) when unpickled."""
        return {**self.__dict__, "module": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.module = _load(self.source, self.name, self.__dict__.get("backend", "numpy"))

    @property
    def inputs(self) -> dict:
        """Each array's name and its shape in size names (e.g. x: ("D_x", "B"))."""
        return dict(self.module.SPEC)

    def _signature(self) -> str:
        args = ", ".join(f"{k}: {'×'.join(v)}" for k, v in self.inputs.items())
        return f"{self.name}({args}) → {self.returns}"

    def summary(self) -> str:
        return self._signature()

    def __str__(self):
        return f"{get_backend(self.backend).words} {self._signature()}"

    def markdown(self) -> str:
        rows = ["| input | shape |", "|---|---|"] + [f"| `{k}` | {' × '.join(v)} |" for k, v in self.inputs.items()]
        words = get_backend(self.backend).words
        return "\n".join([f"**{words}** `{self.name}` → {self.returns} (float32 stays float32)", "", *rows])

    def __call__(self, check: bool = True, **arrays) -> dict:
        """Loss and gradients; ``check=False`` skips the input checks (see the generated docstring)."""
        try:
            return getattr(self.module, self.name)(check=check, **arrays)
        except getattr(self.module, "LabelRangeError", ()) as err:
            raise LabelRangeError(str(err)) from None
        except self.module.InputError as err:
            if type(err).__name__ == "SingularMatrixError":
                raise SingularMatrixError(str(err)) from None
            raise KernelInputError(str(err)) from None
        except TypeError as err:  # a keyword the function does not take
            raise KernelInputError(str(err)) from None


def kernel(bp, backend: str = "numpy") -> Kernel:
    """The kernel of a derived backprop (batched; float32 stays float32) on ``backend`` ("numpy",
    "jax", "torch": it takes and returns that engine's arrays), or the NumPy kernel of one derivation (a
    gradient, a Hessian, an HVP: one function of the arrays its closed form reads). It is checked
    before it is returned (``self_check.check_kernel``, ``closed_kernel.check_derivation_kernel``)."""
    engine = get_backend(backend)
    if isinstance(bp, Derivation):
        if engine.name != "numpy":
            raise KernelError("a single derivation's kernel is NumPy only; the JAX and PyTorch backends take a "
                              "model's backprop")
        return _derivation_kernel(bp)
    text, module = _built(bp, engine.name)
    domains = {name: bp.graph.domain(node) for name, node in bp.model.variables.items() if bp.graph.domain(node)}
    return Kernel(function_name(bp), text, module, domains, backend=engine.name)


def _derivation_kernel(d) -> Kernel:
    cached = getattr(d, "_kernel", None)
    if cached is None:
        text, name = derivation_source(d)
        module = _load(text, name)
        problem = check_derivation_kernel(getattr(module, name), d)
        if problem is not None:
            raise KernelError(f"refusing the generated kernel of {d.title!r}: {problem}")
        cached = d._kernel = Kernel(name, text, module, returns=d.title[:1].lower() + d.title[1:])
    return cached


@dataclass(repr=False)
class Gradcheck(Displayed):
    """Central finite differences against a kernel's gradients: norm-wise relative errors."""

    errors: dict
    tolerance: float

    @property
    def ok(self) -> bool:
        return all(e <= self.tolerance for e in self.errors.values())

    def __str__(self):
        return "\n".join(f"{'PASS' if e <= self.tolerance else 'FAIL'}  ∂J/∂{k}  rel. error {e:.1e}"
                         for k, e in self.errors.items())

    def summary(self) -> str:
        worst = max(self.errors.values(), default=0.0)
        failed = sorted(k for k, e in self.errors.items() if e > self.tolerance)
        verdict = "all within" if not failed else f"FAIL for {', '.join(failed)}; tolerance"
        return f"{len(self.errors)} gradients, {verdict} {self.tolerance:.0e} (worst rel. error {worst:.1e})"

    def markdown(self) -> str:
        rows = ["| gradient | rel. error | result |", "|---|---|---|"]
        rows += [f"| ∂J/∂{k} | {e:.1e} | {'PASS' if e <= self.tolerance else '**FAIL**'} |"
                 for k, e in self.errors.items()]
        return "\n".join([f"**Finite differences** (central, tolerance {self.tolerance:.0e})", "", *rows])


def gradcheck(f, arrays: dict, *, h: float = 1e-6, tolerance: float = 1e-6, max_elements: int = 200,
              seed: int = 0) -> Gradcheck:
    """Compare ``f``'s gradients with central differences of its loss (in float64).

    The error of a gradient is ‖got − want‖ / (‖want‖ + floor / tolerance): it passes when
    ‖got − want‖ ≤ tolerance ‖want‖ + floor, where floor = 100 ε |J| √n / h is what rounding in the
    n differences themselves can contribute (a loss of 0.14 differenced at h = 1e-6 cannot resolve
    gradient entries below ~1e-11). A wrong gradient is still off by about ‖want‖ itself."""
    rng = np.random.default_rng(seed)
    # (int labels and ids stay ints: they have no gradient)
    base = {k: np.array(v, dtype=np.float64) if np.asarray(v).dtype.kind not in "iu" else np.asarray(v)
            for k, v in arrays.items()}
    out = f(**base)
    loss = abs(float(np.asarray(out["J"]).sum()))
    errors = {}
    for name, grad in out.items():
        if name == "J":
            continue
        indices = sample_indices(base[name].shape, max_elements, rng)
        tied = name in declared_symmetric(f.module)  # (a free entry moves at both its places)
        want = [central_difference(lambda a: np.sum(f(**a)["J"]), base, name, idx, h, tied) for idx in indices]
        got = [np.asarray(grad)[idx] for idx in indices]
        floor = 100 * np.finfo(np.float64).eps * max(loss, 1e-300) * np.sqrt(len(indices)) / h
        scale = float(np.linalg.norm(np.asarray(want, dtype=float))) + floor / tolerance
        errors[name] = float(np.linalg.norm(np.asarray(got, dtype=float) - np.asarray(want, dtype=float)) / scale)
    return Gradcheck(errors, tolerance)
