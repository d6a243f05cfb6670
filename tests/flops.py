"""The tests' independent cost of a forward pass, and the check that a kernel's cost grows like it.

``forward_operations`` counts a graph's forward pass from its nodes alone, by the textbook model
(an (m×k)(k×n) product m·k·n multiply-adds, any other op one operation per element it reads or
writes, whichever is more); it shares nothing with the planner. The cheap gradient principle
(Baur & Strassen 1983; Griewank & Walther, *Evaluating Derivatives*, 2nd ed. 2008, §4.6) says that
reverse mode delivers a function and its gradient for a small constant multiple of the function's
own operations, whatever the sizes: a kernel whose count grows faster than its forward's (the d×d
outer product of v δ xᵀ v) has a plan asymptotically worse than hand-written backprop.
"""

import re

import numpy as np

from jacobian_sym.kernels.cost import operation_count
from jacobian_sym.kernels.numeric import concrete_shape
from jacobian_sym.kernels.timing import random_arrays

#: the two sizes every size takes, and what growth between them counts as the same order: an extra
#: factor of a size multiplies the growth by 4, a lower-order term of the forward shifts it by less
SMALL, LARGE, SAME_ORDER = 8, 32, 2.0
#: ops whose textbook cost is an LU factorisation of their square operand (Golub & Van Loan §3.2):
#: ~n³ (counted n³, the same order as a kernel's LAPACK call), plus n² per column solved for
LINALG = ("inv", "solve", "det", "logdet")


def _elements(shape, sizes) -> int:
    rows, cols = concrete_shape(shape, sizes)
    return rows * cols


def forward_operations(root, sizes: dict) -> int:
    """The forward pass's operations at ``sizes`` (size symbol → number), each node once."""
    total, seen = 0, set()
    for node in root.walk():
        if id(node) in seen or node.is_leaf or node.op in ("const", "transpose", "copy"):
            seen.add(id(node))
            continue
        seen.add(id(node))
        if node.op == "matmul":
            (m, k), (_, n) = (concrete_shape(a.shape, sizes) for a in node.args)
            total += m * k * n
        elif node.op in LINALG:  # an LU factorisation of the n×n operand, then its solves
            n, _ = concrete_shape(node.args[0].shape, sizes)
            k = concrete_shape(node.args[1].shape, sizes)[1] if node.op == "solve" else n if node.op == "inv" else 0
            total += n ** 3 + n * n * k
        else:
            total += max([_elements(node.shape, sizes), *(_elements(a.shape, sizes) for a in node.args)])
    return total


def costs(f, root, s: int, rng) -> tuple[int, int]:
    """(the kernel's counted operations, its forward pass's) with every size = ``s``."""
    names = {n for dims in f.inputs.values() for d in dims for n in re.findall(r"[A-Za-z_]\w*", d)}
    arrays = random_arrays(f, {n: s for n in names}, rng)
    symbols = {x for node in root.walk() for d in node.shape for x in getattr(d, "free_symbols", ())}
    with np.errstate(all="ignore"):  # (the count does not depend on the values)
        return operation_count(f, arrays), forward_operations(root, {x: s for x in symbols})


def growth(f, root, rng) -> tuple[float, float]:
    """How much the kernel's count and its forward's grow from every size SMALL to every size LARGE."""
    (k1, f1), (k2, f2) = costs(f, root, SMALL, rng), costs(f, root, LARGE, rng)
    return k2 / k1, f2 / f1
