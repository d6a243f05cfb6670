"""The helpers a kernel with int label inputs calls: the range check and products with a one-hot matrix by indexing.

Copied into a generated module only when its model has int inputs (``kernels/labels.py``), so that
the other kernels' source is unchanged. In each, ``y`` is the int array (n×1 or 1×n), ``c`` the
number of classes and ``axis`` the axis of its one-hot matrix that holds the classes, as the kernel
line reads it (after a transpose, if any); the one-hot matrix itself is never built except by
``_onehot``, the fallback for a use that indexing does not cover.
"""

import numpy as np

from jacobian_sym.kernels.runtime import InputError, _check  # (a generated module has its own)


class LabelRangeError(InputError):
    """An int label or id outside 0 … C−1 (raised before any arithmetic)."""


def _check_labels(arrays, spec, one_hot, no_batch, labels):
    """The int inputs' checks (an int array, every label a class), then the float arrays' (``_check``,
    with each int array standing in as floats of its shape, so that its sizes are checked too)."""
    for name in labels:
        a = arrays.get(name)
        if a is None:
            continue
        if type(a) is not np.ndarray:
            raise InputError(f"{name} must be a plain NumPy array (np.ndarray), not {type(a)}")
        if a.ndim != 2:
            raise InputError(f"{name} must be 2-D ({'×'.join(spec[name])}), but has shape {a.shape}")
        if a.dtype.kind not in "iu":
            raise InputError(f"{name} holds class indices: pass an int array, not {a.dtype}")
    _check({k: v.astype(np.float64) if k in labels and v is not None else v for k, v in arrays.items()},
           spec, one_hot, no_batch)
    for name, (_, classes) in labels.items():
        c = int(classes) if classes.isdigit() else next(
            arrays[n].shape[k] for n, dims in spec.items() for k, d in enumerate(dims) if d == classes)
        flat = arrays[name].reshape(-1)
        bad = np.flatnonzero((flat < 0) | (flat >= c))
        if bad.size:
            row, col = np.unravel_index(bad[0], arrays[name].shape)
            raise LabelRangeError(f"{name}[{row}, {col}] = {flat[bad[0]]} is not a class: {name} holds labels "
                                  f"0 … {c - 1} ({classes} = {c})")


def _labels_fit(y, c):
    """Whether every label of ``y`` lies in 0 … c−1 (the happy path of ``_check_labels``)."""
    return y.size == 0 or bool(y.min() >= 0) and bool(y.max() < c)


def _where(y, axis):
    """The index of the one-hot matrix's ones: (examples, labels) along ``axis``."""
    idx = y.reshape(-1)
    rows = np.arange(idx.size)
    return (rows, idx) if axis == 1 else (idx, rows)


def _take(m, y, axis):
    """onehot(y) @ m (classes along 1: rows of m) or m @ onehot(y) (along 0: columns of m)."""
    return np.take(m, y.reshape(-1), axis=0 if axis == 1 else 1)


def _scatter(m, y, c, axis):
    """onehot(y) @ m with the classes along 0 (m's rows added into their labels' rows: repeated labels add up),
    or m @ onehot(y) with the classes along 1 (columns into columns)."""
    if axis == 0:
        out = np.zeros((c, m.shape[1]), dtype=m.dtype)
        np.add.at(out, y.reshape(-1), m)
    else:
        out = np.zeros((m.shape[0], c), dtype=m.dtype)
        np.add.at(out.T, y.reshape(-1), m.T)  # (out.T is a view of out)
    return out


def _scatter_row(r, y, c):
    """(the classes' counts, c×1) @ r for a 1×k row r: r added into the row of each label (repeats add up)."""
    out = np.zeros((c, r.shape[1]), dtype=r.dtype)
    np.add.at(out, y.reshape(-1), r[0])
    return out


def _counts(y, c, axis, dtype):
    """onehot(y) summed over its examples: how often each class occurs (c along ``axis``)."""
    counts = np.bincount(y.reshape(-1), minlength=c).astype(dtype)
    return counts.reshape((c, 1) if axis == 0 else (1, c))


def _pick(a, y, c, axis):
    """The elements of a (broadcast to the one-hot matrix's shape) where onehot(y) is 1: Σ onehot(y) ∘ a
    is their sum."""
    n = y.size
    a = np.broadcast_to(a, (n, c) if axis == 1 else (c, n))
    return a[_where(y, axis)]


def _select(a, y, c, axis):
    """onehot(y) ∘ a: a where the one-hot matrix is 1, zero elsewhere."""
    n = y.size
    a = np.broadcast_to(a, (n, c) if axis == 1 else (c, n))
    out = np.zeros(a.shape, dtype=a.dtype)
    at = _where(y, axis)
    out[at] = a[at]
    return out


def _add_onehot(a, y, c, axis, sign):
    """a + sign · onehot(y) (a broadcast to the one-hot matrix's shape): δ = P − onehot(y) in one pass."""
    n = y.size
    out = np.array(np.broadcast_to(a, (n, c) if axis == 1 else (c, n)))
    out[_where(y, axis)] += sign
    return out


def _onehot(y, c, axis, dtype):
    """The dense one-hot matrix, for a use of the labels that the helpers above do not cover."""
    n = y.size
    out = np.zeros((n, c) if axis == 1 else (c, n), dtype=dtype)
    out[_where(y, axis)] = 1
    return out
