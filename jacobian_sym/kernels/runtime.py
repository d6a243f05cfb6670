"""The runtime of generated kernels: input checks and the stable lowerings of the vector ops.

This module is both imported (the numeric checks lambdify with it) and copied verbatim into every
generated module (``generate.py`` reads its source), so that a generated module needs NumPy only.
"""

import numpy as np


class InputError(ValueError):
    """An array that does not fit the model (raised before any arithmetic)."""


def _check(arrays, spec, one_hot, no_batch=None):
    if len(arrays) != len(spec) or any(a is None for a in arrays.values()):
        extra = [n for n in arrays if n not in spec and arrays[n] is not None]
        if extra:
            raise InputError(f"unexpected array(s): {', '.join(extra)}; expected {', '.join(spec)}")
        missing = [n for n in spec if arrays.get(n) is None]
        if missing:
            raise InputError(f"missing array(s): {', '.join(missing)}")
    sizes = {}
    for name, dims in spec.items():
        a = arrays[name]
        if type(a) is not np.ndarray:  # np.matrix would turn * into a matrix product
            raise InputError(f"{name} must be a plain NumPy array (np.ndarray), not {type(a)}")
        if a.ndim != 2:
            raise InputError(f"{name} must be 2-D ({'×'.join(dims)}), but has shape {a.shape}")
        if a.dtype.char not in _FLOATS:
            raise InputError(f"{name} has dtype {a.dtype}; pass float32 or float64 arrays")
        for axis in (0, 1):
            dim, n = dims[axis], a.shape[axis]
            if no_batch and dim == "1" and n != 1 and name in no_batch[0]:  # a batch for a one-example kernel
                raise InputError(f"{name} has shape {a.shape}: {no_batch[1]}")
            known = sizes.get(dim)
            if known is None:
                if n == 0:
                    raise InputError(f"{name} has shape {a.shape}: its axis {axis} ({dim}) is empty")
                if dim.isdigit() and n != int(dim):
                    raise InputError(f"{name} has shape {a.shape} but its axis {axis} must be {dim}")
                sizes[dim] = (n, name, axis)
            elif known[0] != n:
                what = "rows" if known[2] == 0 else "columns"
                raise InputError(f"{name} has shape {a.shape} but {known[1]} has {known[0]} {what} ({dim})")
    values = {dim: known[0] for dim, known in sizes.items()}
    for dim, (n, name, axis) in sizes.items():
        want = _dim_value(dim, values)
        if want is not None and want != n:
            raise InputError(f"{name} has shape {arrays[name].shape} but its axis {axis} must be {dim} = {want}")
    for name, axis in one_hot.items():
        if not _sums_to_one(arrays[name], axis):
            raise InputError(f"{name} is declared one-hot but is not: its entries along axis {axis} must sum "
                             f"to 1 in every example (classes along axis {1 - axis}: declare axis = {1 - axis})")


def _dim_value(dim, sizes):
    """The value of a size written as a sum (``2*k + v``) from the sizes bound by name; None for a
    plain name or when a name in it is not bound."""
    if "+" not in dim and "*" not in dim:
        return int(dim) if dim.isdigit() else None
    total = 0
    for term in dim.split("+"):
        count, _, what = term.strip().rpartition("*")
        what = what.strip()
        value = int(what) if what.isdigit() else sizes.get(what)
        if value is None:
            return None
        total += int(count or 1) * value
    return total


def _causal_mask(n, dtype):
    """The additive causal mask: 0 on and below the diagonal, −∞ above (a model file's constant)."""
    return np.triu(np.full((n, n), -np.inf, dtype=dtype), 1)


def _lower_mask(n, dtype):
    """The multiplicative lower-triangular mask: 1 on and below the diagonal, 0 above."""
    return np.tril(np.ones((n, n), dtype=dtype))


_FLOATS = "fd"  # the type codes of float32 and float64
_ROUNDING = {"f": 0.00011920928955078125, "d": 2.220446049250313e-13}  # 1000 eps


def _sums_to_one(a, axis):
    """Σ_k a_k = 1 in every example (the derivation uses it), with a rounding margin."""
    s = a.sum(axis=axis)
    tol = _ROUNDING[a.dtype.char]
    if s.size == 1:  # one example: a Python comparison costs a fraction of a NumPy one
        return abs(float(s[0]) - 1.0) <= tol
    return bool(np.abs(s - 1).max() <= tol)


def _not_finite(arrays, out=None):
    """Called when the loss or a gradient is not finite: name the input that is not, or say which
    value overflowed."""
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise InputError(f"{name} has non-finite values (inf or nan)")
    if out is not None and np.isfinite(out["J"]):
        bad = next(k for k, v in out.items() if not np.isfinite(v).all())
        raise InputError(f"the gradient for {bad} is not finite for these inputs (it overflowed): scale the "
                         "inputs down")
    raise InputError("the loss is not finite for these inputs (it overflowed): scale the inputs down")


def _scalar(a):
    """The one element of a 1×1 array, or a NumPy scalar as it is."""
    return a if a.ndim == 0 else a.reshape(())


def _mm(a, b):
    """a @ b; an outer product (inner dimension 1) as a broadcast multiply."""
    return a * b if a.shape[1] == 1 else a @ b


def _gram(a, v):
    """aᵀ diag(v) a for v ≥ 0, as bᵀb with b = a ∘ √v: NumPy hands a product of an array with its own
    transpose to BLAS's syrk, which computes half of the symmetric result."""
    b = a * np.sqrt(v)
    return b.T @ b


class SingularMatrixError(InputError):
    """A matrix that an inverse, a solve or a log-determinant needs nonsingular is singular (to
    working precision)."""


#: the matrices found nonsingular lately, by their values (a kernel solves with one matrix several
#: times per call: the SVD, ten LU solves' worth at n = 256, is taken once)
_NONSINGULAR = []


def _nonsingular(a):
    """a itself, or SingularMatrixError when its smallest singular value is below n·eps times its
    largest (an LU solve would return huge values, or NaN, rather than refuse)."""
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise InputError(f"a matrix to invert must be square, not {a.shape}")
    key = (a.dtype.char, a.shape, (a.T if a.flags.f_contiguous and not a.flags.c_contiguous else a).tobytes())
    if key in _NONSINGULAR:
        return a
    s = np.linalg.svd(a, compute_uv=False)
    if not np.isfinite(s).all() or s[-1] <= s[0] * a.shape[0] * np.finfo(a.dtype).eps:
        raise SingularMatrixError(f"a {a.shape[0]}×{a.shape[1]} matrix to invert is singular (condition number "
                                  f"{s[0] / s[-1] if s[-1] else np.inf:.3g})")
    _NONSINGULAR[:] = [key] + _NONSINGULAR[:3]
    return a


def _solve(a, b):
    """a⁻¹ b by an LU solve (the inverse is never formed); singular a is refused."""
    return np.linalg.solve(_nonsingular(a), b)


def _inv(a):
    """a⁻¹, where the value itself is asked for (a gradient X⁻ᵀ); singular a is refused."""
    return np.linalg.inv(_nonsingular(a))


def _det(a):
    """det a (a singular a is a valid 0)."""
    return np.linalg.det(a)


def _logdet(a):
    """log |det a| by slogdet (no overflow of the determinant itself); singular a is refused."""
    return np.linalg.slogdet(_nonsingular(a))[1]


def _sigmoid_prime(z):
    """σ′(z) = e / (1 + e)² with e = exp(−|z|): full relative precision at any logit."""
    e = np.exp(-np.abs(z))
    return e / ((1 + e) * (1 + e))


def _silu_prime(z):
    """SiLU′(z) = σ(z)(1 + z σ(−z)) with both σ from e = exp(−|z|): finite at any argument (the derived
    form e⁻ᶻ/(1 + e⁻ᶻ)² overflows to inf/inf below z ≈ −710, −88 in float32)."""
    e = np.exp(-np.abs(z))
    big, small = 1 / (1 + e), e / (1 + e)  # σ(|z|), σ(−|z|)
    positive = z >= 0
    return np.where(positive, big, small) * (1 + z * np.where(positive, small, big))


def _tanh_prime(z):
    """tanh′(z) = 4e / (1 + e)² with e = exp(−2|z|): full relative precision at any argument."""
    e = np.exp(-2 * np.abs(z))
    return 4 * e / ((1 + e) * (1 + e))


def _step(a):
    """ReLU′(a) as numbers in a's dtype: a comparison alone is boolean, and −(a > 0) or (a > 0) + (b > 0)
    is an error or a logical or in NumPy (inside a product with numbers the comparison is kept)."""
    return (a > 0).astype(a.dtype)


def _plus_transpose(a, block=64):
    """a + aᵀ by square blocks: reading aᵀ row by row walks a column by column, a cache miss per
    element at n = 2048 (32 ms there, 15 ms by blocks)."""
    n = a.shape[0]
    if n < 2 * block:
        return a + a.T
    out = np.empty_like(a)
    for i in range(0, n, block):
        for j in range(0, n, block):
            np.add(a[i:i + block, j:j + block], a[j:j + block, i:i + block].T, out=out[i:i + block, j:j + block])
    return out


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


def _cross_entropy(y, p):
    return -np.sum(y * np.log(p))


def _binary_cross_entropy(y, p):
    return -np.sum(y * np.log(p) + (1 - y) * np.log1p(-p))


# erf, which NumPy does not have, to double precision (GELU's exact form): Chebyshev series computed
# in 60 digits by tools/erf_coefficients.py — erf(x) = x P(x²/2 − 1) for |x| ≤ 2, erfc(x) =
# e^(−x²) Q((x − 4)/2) for 2 < x < 6, ±1 beyond (erfc(6) is below half an ulp of 1). Python floats
# as coefficients, so float32 stays float32; tests/test_erf.py compares with math.erf.
_ERF_P = (
    0.7415552820424018, -0.30107107338659495, 0.06899483068983156, -0.013916271264722188,
    0.0024207995224334636, -0.0003658639685848086, 4.862098443231905e-05, -5.749256558035685e-06,
    6.113243578434765e-07, -5.8991015312958435e-08, 5.2070090920686485e-09, -4.2329758799655433e-10,
    3.188113506649175e-11, -2.2361550188326843e-12, 1.467329847991085e-13, -9.044001985381747e-15,
    5.254813715470919e-16, -2.887426122284945e-17, 1.5047851875576326e-18,
)
_ERFC_Q = (
    0.15454893254411423, -0.07674006034821483, 0.01849487416970198, -0.004337233595514166,
    0.0009916839077238056, -0.00022144890703087983, 4.836760032122529e-05, -1.034609832664543e-05,
    2.1698719431920526e-06, -4.4664937548784355e-07, 9.031674382673662e-08, -1.7955339488870227e-08,
    3.5120800624763815e-09, -6.763532420163472e-10, 1.2831846446281688e-10, -2.3997023709710498e-11,
    4.425938010116817e-12, -8.054583827182102e-13, 1.446990739131772e-13, -2.5671711791155715e-14,
    4.4996611900036674e-15, -7.794698095368683e-16, 1.3349408666512418e-16, -2.261037766442396e-17,
    3.7885091975244464e-18, -6.281565255937608e-19, 1.0309173951004107e-19,
)


def _chebyshev(coefficients, t):
    """Σ c_k T_k(t) by Clenshaw's recurrence."""
    b1 = b2 = 0.0
    for c in coefficients[:0:-1]:
        b1, b2 = c + 2 * t * b1 - b2, b1
    return coefficients[0] + t * b1 - b2


def _erf(x):
    a = np.abs(x)
    near = x * _chebyshev(_ERF_P, np.minimum(x * x, 4.0) * 0.5 - 1.0)
    c = np.clip(a, 2.0, 6.0)
    far = 1.0 - np.exp(-c * c) * _chebyshev(_ERFC_Q, (c - 4.0) * 0.5)
    return np.where(a <= 2.0, near, np.sign(x) * np.where(a < 6.0, far, 1.0))
