"""How each op of the op table is computed in JAX: the JAX backend's table (recipe 4 of
docs/ARCHITECTURE.md). ``jax.numpy`` mirrors NumPy's names, so the table is NumPy's (``{np}`` becomes
``jax.numpy.``) with an override for any op whose NumPy lowering has no ``jax.numpy`` twin — none so
far; the optional test in ``tests/test_registries.py`` checks every op's values against NumPy's. The
stable vector helpers (``_softmax`` …) are defined in ``jax_printer``, which alone imports JAX.
"""

from __future__ import annotations

from jacobian_sym.kernels.lowering import NUMPY

JAX: dict[str, str] = {**NUMPY}
