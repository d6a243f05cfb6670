"""Kernels of models with int label inputs: the one-hot matrix's products computed by indexing.

The planner prints a label input ``y`` as the one-hot matrix the derivation reads (δ = P − y,
−Σ y ∘ log P, ids @ E, idsᵀ G); here each such use in a kernel line is rewritten to a helper of
``label_runtime`` over the int array: P − onehot(y) adds −1 at the labels, Σ onehot(y) ∘ A picks
the labels' elements, onehot(ids) @ E is ``np.take`` of E's rows, onehot(ids)ᵀ G is ``np.add.at``
of G's rows (repeated ids add up), its column sums are ``np.bincount``. Any other use falls back to
the dense one-hot matrix (``_onehot``), so that every line still computes what was derived.
"""

from __future__ import annotations

import ast
import inspect
import re

import numpy as np

from jacobian_sym.graph.labels import classes, is_labels, label_shape
from jacobian_sym.kernels import label_runtime

#: the helpers' source, copied into a module whose model has int inputs (without the import of the
#: runtime, whose InputError and _check the module has)
HELPERS = {"_labels": inspect.getsource(label_runtime).split("# (a generated module has its own)\n", 1)[1].strip()}


def label_inputs(variables: dict) -> dict:
    """{name: (class axis, classes as a size name)} of the int inputs."""
    return {name: (node.attr("one_hot_axis"), str(classes(node))) for name, node in variables.items()
            if is_labels(node)}


def label_dims(node) -> tuple:
    """The int array's dims as size names (the kernel's SPEC entry)."""
    return tuple(str(s) for s in label_shape(node))


def _is_number(node) -> bool:
    """Whether a kernel expression is a number: literals and the kernel's sizes (``_size_T ** (-1.0)``)."""
    return all(isinstance(n, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop, ast.Load))
               or isinstance(n, ast.Name) and n.id.startswith("_size_") for n in ast.walk(node))


class _Indexing(ast.NodeTransformer):
    """One kernel line's uses of the one-hot matrices, as helper calls on the int arrays."""

    def __init__(self, labels: dict, size_code, dtype: str):
        self.labels, self.size_code, self.dtype = labels, size_code, dtype

    def _label(self, node):
        """(name, class axis as the line reads it) when ``node`` is a label input or its transpose."""
        if isinstance(node, ast.Name) and node.id in self.labels:
            return node.id, self.labels[node.id][0]
        if isinstance(node, ast.Attribute) and node.attr == "T":
            inner = self._label(node.value)
            if inner is not None:
                return inner[0], 1 - inner[1]
        return None

    def _call(self, helper, *args):
        parsed = [a if isinstance(a, ast.AST) else ast.parse(str(a), mode="eval").body for a in args]
        return ast.Call(func=ast.Name(helper, ast.Load()), args=parsed, keywords=[])

    def _classes(self, name):
        return self.size_code(self.labels[name][1])

    def _product(self, found, other, label_left):
        """onehot @ M: rows of M (classes along 1) or M's rows added into C rows (along 0); M @ onehot:
        columns of M (along 0) or M's columns added into C columns (along 1)."""
        name, axis = found
        y, c = ast.Name(name, ast.Load()), self._classes(name)
        takes = axis == 1 if label_left else axis == 0
        return self._call("_take", other, y, axis) if takes else self._call("_scatter", other, y, c, axis)

    def _label_sum(self, node) -> bool:
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sum"
                and self._label(node.func.value) is not None)

    def _counts_column(self, node) -> bool:
        """Whether ``node`` is onehot.sum(axis=a) across a class axis 0: the C×1 column of the classes' counts."""
        if not self._label_sum(node):
            return False
        keywords = {k.arg: k.value for k in node.keywords}
        axis = keywords.get("axis")
        return isinstance(axis, ast.Constant) and self._label(node.func.value)[1] == 0 and axis.value == 1

    def _reassociated(self, node):
        """(counts @ B) @ C → counts @ (B @ C): a C×1 column of counts times a row, not a C×k matrix
        times C (the one-hot's column sums are a thin factor)."""
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and isinstance(node.left, ast.BinOp)
                and isinstance(node.left.op, ast.MatMult) and self._label_sum(node.left.left)):
            return ast.BinOp(node.left.left, ast.MatMult(), ast.BinOp(node.left.right, ast.MatMult(), node.right))
        return node

    def visit_BinOp(self, node):
        node = self._reassociated(node)
        if isinstance(node.op, ast.Mult) and _is_number(node.left):
            right = self._reassociated(node.right)
            if isinstance(right, ast.BinOp) and isinstance(right.op, ast.MatMult) and self._counts_column(right.left):
                # s · (counts @ r) → counts @ (s · r): the number scales the row, not the C×k result
                node = ast.BinOp(right.left, ast.MatMult(), ast.BinOp(node.left, ast.Mult(), right.right))
        if isinstance(node.op, ast.MatMult) and self._counts_column(node.left):
            # (C×1 counts) @ (1×k row): the row added into each label's row, np.add.at, not an outer product
            name = self._label(node.left.func.value)[0]
            return self._call("_scatter_row", self.visit(node.right), ast.Name(name, ast.Load()), self._classes(name))
        left, right = self._label(node.left), self._label(node.right)
        if left is None and right is None or left is not None and right is not None:
            return self.generic_visit(node)
        (name, axis), other, label_left = (left, node.right, True) if left else (right, node.left, False)
        other = self.visit(other)
        y, c = ast.Name(name, ast.Load()), self._classes(name)
        if isinstance(node.op, ast.MatMult):
            return self._product((name, axis), other, label_left)
        if isinstance(node.op, ast.Mult):
            return self._call("_select", other, y, c, axis)
        if isinstance(node.op, ast.Add):
            return self._call("_add_onehot", other, y, c, axis, 1)
        if isinstance(node.op, ast.Sub):
            if label_left:  # onehot − A = −A + onehot
                return self._call("_add_onehot", ast.UnaryOp(ast.USub(), other), y, c, axis, 1)
            return self._call("_add_onehot", other, y, c, axis, -1)
        return self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        # multi_dot([onehot, A, B]) → onehot @ multi_dot([A, B]) by indexing (and the same at the end)
        if (isinstance(func, ast.Attribute) and func.attr == "multi_dot" and len(node.args) == 1
                and isinstance(node.args[0], ast.List) and len(node.args[0].elts) > 2):
            elts = node.args[0].elts
            for at, label_left in ((0, True), (len(elts) - 1, False)):
                found = self._label(elts[at])
                if found is not None and not any(self._label(e) for k, e in enumerate(elts) if k != at):
                    rest = [self.visit(e) for k, e in enumerate(elts) if k != at]
                    others = rest[0] if len(rest) == 1 else ast.Call(func=func, args=[ast.List(rest, ast.Load())],
                                                                     keywords=[])
                    return self._product(found, others, label_left)
        # np.sum(onehot ∘ A) → the sum of the labels' elements of A
        if (isinstance(func, ast.Attribute) and func.attr == "sum" and isinstance(func.value, ast.Name)
                and func.value.id == "np" and len(node.args) == 1 and not node.keywords
                and isinstance(node.args[0], ast.BinOp) and isinstance(node.args[0].op, ast.Mult)):
            product = node.args[0]
            for lab, other in ((product.left, product.right), (product.right, product.left)):
                found = self._label(lab)
                if found is not None and self._label(other) is None:
                    name, axis = found
                    y = ast.Name(name, ast.Load())
                    picked = self._call("_pick", self.visit(other), y, self._classes(name), axis)
                    return ast.Call(func=func, args=[picked], keywords=[])
        # onehot.sum(axis=a, keepdims=True): ones along the class axis, the classes' counts across it
        if isinstance(func, ast.Attribute) and func.attr == "sum" and not node.args:
            found = self._label(func.value)
            keywords = {k.arg: k.value for k in node.keywords}
            if (found is not None and set(keywords) == {"axis", "keepdims"}
                    and isinstance(keywords["axis"], ast.Constant)):
                name, axis = found
                summed = keywords["axis"].value
                y = ast.Name(name, ast.Load())
                if summed == axis:
                    shape = f"{name}.shape" if self.labels[name][0] == axis else f"{name}.T.shape"
                    return ast.parse(f"np.ones({shape}, dtype={self.dtype})", mode="eval").body
                return self._call("_counts", y, self._classes(name), axis, f"{self.dtype}")
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in self.labels and isinstance(node.ctx, ast.Load):
            axis, _ = self.labels[node.id]
            return self._call("_onehot", ast.Name(node.id, ast.Load()), self._classes(node.id), axis, self.dtype)
        return node


def indexed(lines: list[str], labels: dict, size_code, dtype: str) -> list[str]:
    """``lines`` (``    name = code``) with every use of a label input's one-hot matrix by indexing."""
    if not labels:
        return lines
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in labels) + r")\b")
    out = []
    for line in lines:
        if not pattern.search(line.split("=", 1)[1]):
            out.append(line)
            continue
        statement = ast.parse(line.strip()).body[0]
        statement.value = _Indexing(labels, size_code, dtype).visit(statement.value)
        out.append("    " + ast.unparse(ast.fix_missing_locations(statement)))
    return out


def taking_one_hot(fn, labels: dict):
    """``fn`` (a kernel over int labels) as a function of the one-hot matrices, for the self-check,
    whose random inputs and independent forward pass are the mathematics' one-hot values."""
    if not labels:
        return fn

    def call(check=True, **arrays):
        for name, (axis, _) in labels.items():
            if name in arrays:
                hot = np.asarray(arrays[name])
                arrays[name] = hot.argmax(axis=axis).reshape((1, -1) if axis == 0 else (-1, 1))
        return fn(check=check, **arrays)

    return call
