"""The operation count of a NumPy kernel run: a cost model, not a clock.

``operation_count(fn, arrays)`` calls ``fn`` on the arrays wrapped as ``Counted`` (an ndarray
subclass) and counts, for every NumPy call the kernel makes: a matrix product (m×k)(k×n) costs
m·k·n multiply-adds (``np.linalg.multi_dot`` the cheapest order of its chain, as NumPy picks it);
any other ufunc one operation per element of its result, a reduction one per element it reads; any
other NumPy function the elements it reads and writes. A count is the same on every machine and
every run, so it can compare a kernel at two sizes (does its cost grow like the forward pass's?) in
a test where a timing could not.
"""

from __future__ import annotations

import numpy as np

_MATMULS = {np.matmul}


class Counted(np.ndarray):
    """An array whose NumPy operations add their cost to ``Counted.total``."""

    total = 0
    #: elements each ufunc computed, by its name (how many tanh a kernel evaluates)
    elements: dict = {}

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [_plain(a) for a in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(a) for a in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        if ufunc in _MATMULS and method == "__call__":
            Counted.total += _matmul_cost(*plain)
        elif method == "__call__":
            Counted.total += int(np.size(result))
            Counted.elements[ufunc.__name__] = Counted.elements.get(ufunc.__name__, 0) + int(np.size(result))
        else:  # reduce, accumulate, outer …: what it reads and writes
            Counted.total += int(sum(np.size(a) for a in plain)) + int(np.size(result))
        return _wrapped(result)

    def __array_function__(self, func, types, args, kwargs):
        plain_args, plain_kwargs = _plain(args), _plain(kwargs)
        result = func(*plain_args, **plain_kwargs)
        if func is np.linalg.multi_dot:
            Counted.total += _chain_cost([np.shape(a) for a in plain_args[0]])
        elif func is np.dot:
            Counted.total += _matmul_cost(*plain_args[:2])
        else:
            Counted.total += _elements(plain_args) + _elements(plain_kwargs) + _elements(result)
        return _wrapped(result)


def operation_count(fn, arrays: dict) -> int:
    """The operations ``fn(**arrays)`` performs, by the model above (``fn`` a NumPy kernel)."""
    Counted.total, Counted.elements = 0, {}
    fn(**{k: np.asarray(v).view(Counted) for k, v in arrays.items()}, check=False)
    return Counted.total


def _plain(x):
    if isinstance(x, Counted):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(a) for a in x)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _wrapped(x):
    if isinstance(x, np.ndarray) and not isinstance(x, Counted):
        return x.view(Counted)
    if isinstance(x, tuple):
        return tuple(_wrapped(a) for a in x)
    return x


def _elements(x) -> int:
    if isinstance(x, np.ndarray):
        return int(x.size)
    if isinstance(x, (list, tuple)):
        return sum(_elements(a) for a in x)
    if isinstance(x, dict):
        return sum(_elements(a) for a in x.values())
    return 0


def _matmul_cost(a, b) -> int:
    sa, sb = np.shape(a), np.shape(b)
    if len(sa) < 2 or len(sb) < 2:  # a vector or a number: one operation per element read
        return int(np.size(a) + np.size(b))
    return int(sa[0] * sa[1] * sb[1])


def _chain_cost(shapes) -> int:
    """The multiply-adds of the cheapest order of a chain of matrices (the textbook dynamic program)."""
    dims = [shapes[0][0], *(s[1] for s in shapes)]
    n = len(shapes)
    best = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            best[i][j] = min(best[i][k] + best[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1] for k in range(i, j))
    return int(best[0][n - 1])
