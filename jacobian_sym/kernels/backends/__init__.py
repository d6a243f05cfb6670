"""The engines a model's kernel can be printed for: one planner (``kernels/generate.py: plan``),
one module per engine (``numpy_engine.py``, ``jax_engine.py``, ``torch_engine.py``: a table from
the planner's NumPy calls to the engine's, a runtime, the module's shape). Generating a module
needs no engine; loading and checking it needs that engine installed (JAX and PyTorch are optional
peers, see pyproject's ``backends`` extra). ``adapters`` give the self-check each of a module's
doors as a function of NumPy arrays, so every engine's kernel passes the one check of
``kernels/self_check.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy

from jacobian_sym.kernels.backends import jax_engine, numpy_engine, torch_engine
from jacobian_sym.kernels.backends.translate import BackendError


@dataclass(frozen=True)
class Backend:
    name: str
    module: object  # the backend's module: TABLE, source(plan, title), statements(fname), IMPORTS …
    words: str  # what the kernel is called in its one-line summary
    dunders: frozenset = field(default=frozenset())

    def source(self, plan, title: str) -> str:
        return self.module.source(plan, title)

    def audit_options(self, fname: str) -> dict:
        """What the static audit accepts in this engine's modules beyond the NumPy module's shape."""
        return {"imports": self.module.IMPORTS, "module_names": self.module.MODULE_NAMES,
                "statements": self.module.statements(fname), "dunders": self.dunders}

    def adapters(self, module, fname: str, gradients) -> list:
        """The module's doors as functions of NumPy arrays returning NumPy arrays (for the self-check)."""
        return _ADAPTERS[self.name](module, fname, list(gradients))


BACKENDS = {
    "numpy": Backend("numpy", numpy_engine, "NumPy kernel"),
    "jax": Backend("jax", jax_engine, "JAX kernel"),
    "torch": Backend("torch", torch_engine, "PyTorch kernel", dunders=torch_engine.DUNDERS),
}


def get_backend(name) -> Backend:
    """The backend called ``name``; anything else is a one-line ``BackendError``."""
    backend = BACKENDS.get(name) if isinstance(name, str) else None
    if backend is None:
        raise BackendError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return backend


def _numpy_adapters(module, fname, gradients):
    return [getattr(module, fname)]


def _jax_adapters(module, fname, gradients):
    jax, jnp = module.jax, module.jnp

    def functional(check=False, **arrays):
        with jax.enable_x64(True):
            out = getattr(module, fname)(check=check, **{k: jnp.asarray(v) for k, v in arrays.items()})
            return {k: numpy.asarray(v) for k, v in out.items()}

    def custom_vjp(check=False, **arrays):
        names = list(module.SPEC)
        wrt = tuple(names.index(g) for g in gradients if g in names)
        with jax.enable_x64(True):
            # (an array the model declares but never reads: any value, the forward does not read it)
            args = [jnp.zeros((1, 1)) if arrays.get(n) is None else jnp.asarray(arrays[n]) for n in names]
            loss, grads = jax.value_and_grad(lambda *a: jnp.sum(getattr(module, f"{fname}_loss")(*a)),
                                             argnums=wrt)(*args)
            out = {"J": numpy.asarray(loss)}
            out.update({names[k]: numpy.asarray(g) for k, g in zip(wrt, grads)})
            return out

    return [functional, custom_vjp]


def _torch_adapters(module, fname, gradients):
    torch = module.torch

    def functional(check=False, **arrays):
        out = getattr(module, fname)(check=check, **{k: torch.from_numpy(v) for k, v in arrays.items()})
        return {k: v.detach().numpy() for k, v in out.items()}

    def function(check=False, **arrays):
        tensors = {k: torch.from_numpy(v).requires_grad_(k in gradients) for k, v in arrays.items()}
        # (an array the model declares but never reads gets none from the self-check: None here too)
        loss = getattr(module, f"{module.CLASS}Function").apply(*(tensors.get(n) for n in module.SPEC))
        loss.sum().backward()
        out = {"J": loss.detach().numpy()}
        out.update({k: tensors[k].grad.numpy() for k in gradients if k in tensors})
        return out

    return [functional, function]


_ADAPTERS = {"numpy": _numpy_adapters, "jax": _jax_adapters, "torch": _torch_adapters}

__all__ = ["BACKENDS", "Backend", "BackendError", "get_backend"]
