"""The runtime of the selecting and windowed ops (max's indicator, im2col, col2im, max-pooling): copied
into a generated module only when its lines call them (``generate.numpy_source``), so a kernel without
them is unchanged; imported by the numeric checks, which lambdify with them."""

import numpy as np


def _first_indicator(index, a, axis):
    """1 at ``index`` along ``axis`` (the first arg-max or arg-min that NumPy gives), 0 elsewhere, in a's
    dtype: the derivative of max(a, axis) and min(a, axis), one winner per slice even at a tie."""
    out = np.zeros_like(a)
    np.put_along_axis(out, np.expand_dims(index, axis), 1, axis=axis)
    return out


def _im2col(x, width, stride, padding):
    """im2col: row t is rows s·t − p … s·t − p + width − 1 of x (zero padded) side by side, tap-major
    (column k·c + j is tap k, channel j), as one contiguous T_out × width·c array."""
    if padding:
        x = np.pad(x, ((padding, padding), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(x, width, axis=0)[::stride]  # T_out × c × width
    return np.ascontiguousarray(windows.transpose(0, 2, 1)).reshape(windows.shape[0], -1)


def _col2im(g, length, width, stride, padding):
    """col2im, the adjoint of ``_im2col``: each window's columns added back onto the rows it read."""
    t_out, c = g.shape[0], g.shape[1] // width
    out = np.zeros((length + 2 * padding, c), dtype=g.dtype)
    for k in range(width):  # tap k of window t read row s·t + k
        out[k:k + stride * (t_out - 1) + 1:stride] += g[:, k * c:(k + 1) * c]
    return out[padding:padding + length]


def _max_pool1d(x, width, stride):
    """The maximum of each window of ``width`` rows, windows ``stride`` rows apart, per column."""
    return np.lib.stride_tricks.sliding_window_view(x, width, axis=0)[::stride].max(axis=2)


def _to_window_max(g, x, width, stride):
    """The adjoint of max-pooling: g[t, j] added onto the row of window t's first maximum in column j."""
    windows = np.lib.stride_tricks.sliding_window_view(x, width, axis=0)[::stride]  # T_out × c × width
    rows = stride * np.arange(g.shape[0])[:, None] + windows.argmax(axis=2)
    out = np.zeros(x.shape, dtype=g.dtype)
    np.add.at(out, (rows, np.broadcast_to(np.arange(x.shape[1]), rows.shape)), g)
    return out
