"""The kernels' erf (NumPy has none; GELU's exact form needs it) against the C library's, through
math.erf: to about one ulp everywhere, float32 kept, odd, ±1 far out."""

import math

import numpy as np

from jacobian_sym.kernels.runtime import _erf


def test_erf_matches_the_c_library_to_double_precision():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-9, 9, 180_001), rng.normal(size=50_000) * 3, rng.normal(size=10_000) * 1e-3,
                        [0.0, -0.0, 1e-300, 2.0, -2.0, 6.0, -6.0, 40.0]])
    want = np.array([math.erf(v) for v in x])
    got = _erf(x)
    assert np.all(np.abs(got - want) <= 4 * np.finfo(float).eps * np.maximum(np.abs(want), 1e-300) + 1e-300)
    assert np.array_equal(_erf(-x), -got)


def test_erf_keeps_float32_and_handles_infinities():
    x = np.array([[-np.inf, -1.5, 0.0, 0.25, np.inf]], dtype=np.float32)
    y = _erf(x)
    assert y.dtype == np.float32
    assert np.allclose(y, [[-1, math.erf(-1.5), 0, math.erf(0.25), 1]], rtol=1e-6)
