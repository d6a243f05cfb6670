"""The matrix-calculus model files (derivations/mahalanobis.toml): the kernel against central
differences of a NumPy forward written here from the textbook formula, at two sizes and a batch."""

import numpy as np
import pytest
from oracle import central_differences, rel_error

import jacobian_sym as js


def _mahalanobis(x, mu, P):
    d = x - mu
    return float(0.5 * np.einsum("ib,ij,jb->", d, P, d))  # summed over the batch's columns


@pytest.fixture(scope="module")
def kernel():
    return js.kernel(js.backprop(js.Model.from_toml("derivations/mahalanobis.toml")))


@pytest.mark.parametrize("n, batch", [(3, 1), (5, 4)])
def test_mahalanobis_against_central_differences(kernel, n, batch):
    rng = np.random.default_rng(n)
    arrays = {"x": rng.normal(size=(n, batch)), "mu": rng.normal(size=(n, 1)), "P": rng.normal(size=(n, n))}
    out = kernel(**arrays)
    assert out["J"] == pytest.approx(_mahalanobis(**arrays), rel=1e-12)
    for name in ("mu", "P"):
        assert rel_error(out[name], central_differences(_mahalanobis, arrays, name)) < 1e-7, name
