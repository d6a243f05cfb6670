"""The order of a matrix chain whose sizes are symbols: the cheapest as every size grows.

The textbook dynamic program over parenthesisations (cost of (m×k)(k×n) = m·k·n), with each size
symbol standing for the same large number: a product whose order leaves a factor of a size out (the
d×d outer product in v (δ xᵀ) v, where v (δ (xᵀ v)) costs d·B) is then costlier by that factor. A
size that is a number (the 1 of a vector) stays that number. Used where NumPy's run-time ordering
(``np.linalg.multi_dot``) is not: a chain over the batch, which may be 1.
"""

from __future__ import annotations

#: what every size symbol stands for when two orders are compared (large: the asymptotic order wins)
LARGE = 10**4


def _value(dim) -> int:
    if isinstance(dim, int):
        return dim
    return int(dim.xreplace({s: LARGE for s in dim.free_symbols}))


def cheapest_split(shapes) -> int:
    """The k at which the cheapest order of the chain splits last: (A₀…A_{k−1})(A_k…A_{n−1})."""
    dims = [_value(shapes[0][0]), *(_value(s[1]) for s in shapes)]
    n = len(shapes)
    best = {(i, i): (0, None) for i in range(n)}
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            best[i, j] = min((best[i, k][0] + best[k + 1, j][0] + dims[i] * dims[k + 1] * dims[j + 1], k + 1)
                             for k in range(i, j))  # ties: the leftmost split (deterministic)
    return best[0, n - 1][1]
