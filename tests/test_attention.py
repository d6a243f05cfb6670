"""Causal attention (derivations/attention.toml): the generated kernel with a real −∞ mask is finite,
keeps float32, and its gradients match central differences of a NumPy forward written here."""

import numpy as np
import oracle

import jacobian_sym as js


def _forward(X, Y, M, Q, K, V):
    s = (X @ Q) @ (X @ K).T * 0.125 + M
    e = np.exp(s - s.max(axis=1, keepdims=True))  # the masked entries give exp(−∞) = 0
    A = e / e.sum(axis=1, keepdims=True)
    return 0.5 * np.sum((A @ X @ V - Y) ** 2)


def test_causal_attention_kernel_matches_central_differences():
    f = js.kernel(js.backprop(js.Model.from_toml("derivations/attention.toml")))
    rng = np.random.default_rng(7)
    T, d, k = 6, 5, 4
    arrays = {"X": rng.normal(size=(T, d)), "Y": rng.normal(size=(T, k)), "M": np.triu(np.full((T, T), -np.inf), 1),
              "Q": rng.normal(size=(d, k)), "K": rng.normal(size=(d, k)), "V": rng.normal(size=(d, k))}
    out = f(**arrays)
    assert np.isclose(out["J"], _forward(**arrays), rtol=1e-12)
    for name in ("Q", "K", "V"):
        fd = oracle.central_differences(_forward, arrays, name)
        assert np.isfinite(out[name]).all()
        assert np.linalg.norm(out[name] - fd) <= 1e-6 * np.linalg.norm(fd), name
    single = f(**{n: a.astype(np.float32) for n, a in arrays.items()})
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in single.values())
