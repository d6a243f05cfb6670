"""The runtime of generated kernels: input checks and the stable lowerings of the vector ops.

This module is both imported (the numeric checks lambdify with it) and copied verbatim into every
generated module (``generate.py`` reads its source), so that a generated module needs NumPy only.
"""

import numpy as np


class InputError(ValueError):
    """An array that does not fit the model (raised before any arithmetic)."""


def _check(arrays, spec, one_hot):
    extra = [n for n in arrays if n not in spec and arrays[n] is not None]
    if extra:
        raise InputError(f"unexpected array(s): {', '.join(extra)}; expected {', '.join(spec)}")
    missing = [n for n in spec if arrays.get(n) is None]
    if missing:
        raise InputError(f"missing array(s): {', '.join(missing)}")
    sizes = {}
    for name, dims in spec.items():
        a = arrays[name]
        if not isinstance(a, np.ndarray):
            raise InputError(f"{name} must be a NumPy array, not {type(a).__name__}")
        if a.ndim != 2:
            raise InputError(f"{name} must be 2-D ({'×'.join(dims)}), but has shape {a.shape}")
        if a.dtype.kind != "f":
            raise InputError(f"{name} has dtype {a.dtype}; pass floating-point arrays (float32 or float64)")
        flat = a.ravel()
        # a·a is finite exactly when every element is (or it overflowed: then look element-wise)
        if not np.isfinite(flat @ flat) and not np.isfinite(a).all():
            raise InputError(f"{name} has non-finite values (inf or nan)")
        for axis, (dim, n) in enumerate(zip(dims, a.shape)):
            if dim.isdigit():
                if n != int(dim):
                    raise InputError(f"{name} has shape {a.shape} but its axis {axis} must be {dim}")
            elif dim in sizes and sizes[dim][0] != n:
                other, other_axis = sizes[dim][1], sizes[dim][2]
                what = "rows" if other_axis == 0 else "columns"
                raise InputError(f"{name} has shape {a.shape} but {other} has {sizes[dim][0]} {what} ({dim})")
            else:
                sizes.setdefault(dim, (n, name, axis))
    for name, axis in one_hot.items():
        a = arrays[name]
        if not (np.isin(a, (0.0, 1.0)).all() and (a.sum(axis=axis) == 1).all()):
            raise InputError(f"{name} is declared one-hot but is not (one 1 per example along axis {axis})")


def _mm(a, b):
    """a @ b; an outer product (inner dimension 1) as a broadcast multiply."""
    return a * b if a.shape[1] == 1 else a @ b


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
