"""Input checks of the JAX and PyTorch kernels, copied into their generated modules (as
``kernels/runtime.py`` is into the NumPy ones). They read an engine's arrays through three names the
engine's runtime defines: ``_is_array(a)``, ``_float_dtype(a)`` (float32/float64), ``_float64_refused(a)``
(why the engine would not compute in float64 now, or None: JAX with its 64-bit mode off) and
``_host(x)`` (a Python float of a 0-d array). Checked before any arithmetic; one-hot labels by their
sums; a batch given to a one-example kernel is refused with the reason (``NO_BATCH``)."""

# ruff: noqa: F821  (the engine hooks above are defined by the engine runtime this text is copied beside)


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
        if not _is_array(a):
            raise InputError(f"{name} must be {_ARRAY_WORDS}, not {type(a)}")
        if a.ndim != 2:
            raise InputError(f"{name} must be 2-D ({'×'.join(dims)}), but has shape {tuple(a.shape)}")
        if not _float_dtype(a):
            raise InputError(f"{name} has dtype {a.dtype}; pass float32 or float64 arrays")
        refused = _float64_refused(a)
        if refused:
            raise InputError(f"{name} has dtype float64, but {refused}")
        for axis in (0, 1):
            dim, n = dims[axis], a.shape[axis]
            if no_batch and dim == "1" and n != 1 and name in no_batch[0]:  # a batch for a one-example kernel
                raise InputError(f"{name} has shape {tuple(a.shape)}: {no_batch[1]}")
            known = sizes.get(dim)
            if known is None:
                if n == 0:
                    raise InputError(f"{name} has shape {tuple(a.shape)}: its axis {axis} ({dim}) is empty")
                if dim.isdigit() and n != int(dim):
                    raise InputError(f"{name} has shape {tuple(a.shape)} but its axis {axis} must be {dim}")
                sizes[dim] = (n, name, axis)
            elif known[0] != n:
                what = "rows" if known[2] == 0 else "columns"
                raise InputError(f"{name} has shape {tuple(a.shape)} but {known[1]} has {known[0]} {what} ({dim})")
    values = {dim: known[0] for dim, known in sizes.items()}
    for dim, (n, name, axis) in sizes.items():
        want = _dim_value(dim, values)
        if want is not None and want != n:
            raise InputError(f"{name} has shape {tuple(arrays[name].shape)} but its axis {axis} must be {dim} = {want}")
    for name, axis in one_hot.items():
        a = arrays[name]
        s = a.sum(axis=axis)
        tol = 0.00011920928955078125 if _is_float32(a) else 2.220446049250313e-13
        if not _host(abs(s - 1).max()) <= tol:
            raise InputError(f"{name} is declared one-hot but is not: its entries along axis {axis} must sum "
                             f"to 1 in every example (classes along axis {1 - axis}: declare axis = {1 - axis})")


def _dim_value(dim, sizes):
    """The value of a size written as a sum (``2*k + v``) from the sizes bound by name."""
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


def _not_finite(arrays):
    """Called when the loss is not finite: name the input that is not, or say the loss overflowed."""
    for name, a in arrays.items():
        if not _host(_all_finite(a)):
            raise InputError(f"{name} has non-finite values (inf or nan)")
    raise InputError("the loss is not finite for these inputs (it overflowed): scale the inputs down")


def _not_derived(names, wrt):
    """An autodiff call asked for the gradient of an array the kernel does not derive."""
    raise InputError(f"the kernel derives no gradient for {', '.join(names)}: the model's [gradients] wrt is "
                     f"{', '.join(wrt)} (add the array there and generate the kernel again)")
