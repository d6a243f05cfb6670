"""The runtime of generated kernels: input checks and the stable lowerings of the vector ops.

This module is both imported (the numeric checks lambdify with it) and copied verbatim into every
generated module (``generate.py`` reads its source), so that a generated module needs NumPy only.
"""

import numpy as np


class InputError(ValueError):
    """An array that does not fit the model (raised before any arithmetic)."""


def _check(arrays, spec, one_hot):
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
                             "to 1 in every example")


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


_FLOATS = "fd"  # the type codes of float32 and float64
_ROUNDING = {"f": 0.00011920928955078125, "d": 2.220446049250313e-13}  # 1000 eps


def _sums_to_one(a, axis):
    """Σ_k a_k = 1 in every example (the derivation uses it), with a rounding margin."""
    s = a.sum(axis=axis)
    tol = _ROUNDING[a.dtype.char]
    if s.size == 1:  # one example: a Python comparison costs a fraction of a NumPy one
        return abs(float(s[0]) - 1.0) <= tol
    return bool(np.abs(s - 1).max() <= tol)


def _not_finite(arrays):
    """Called when the loss is not finite: name the input that is not, or say the loss overflowed."""
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise InputError(f"{name} has non-finite values (inf or nan)")
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
