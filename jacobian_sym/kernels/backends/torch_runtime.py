"""The runtime of generated PyTorch kernels (copied into each module after the checks): the stable
lowerings of the vector ops in ``torch`` and the checks' view of a tensor. Every constant takes the
device and dtype of an input (``like``), so a kernel runs where its inputs are (CPU, CUDA)."""

import torch

_ARRAY_WORDS = "a torch.Tensor"


def _is_array(a):
    return isinstance(a, torch.Tensor)


def _float_dtype(a):
    return a.dtype in (torch.float32, torch.float64)


def _float64_refused(a):
    return None  # torch computes float64 in float64 (a device without float64 refuses it itself)


def _is_float32(a):
    return a.dtype == torch.float32


def _host(x):
    return float(x)


def _all_finite(a):
    return torch.isfinite(a).all()


def _causal_mask(n, like):
    return torch.triu(torch.full((n, n), float("-inf"), dtype=like.dtype, device=like.device), 1)


def _lower_mask(n, like):
    return torch.tril(torch.ones((n, n), dtype=like.dtype, device=like.device))


def _scalar(a):
    return a.reshape(())


def _mm(a, b):
    return a * b if a.shape[1] == 1 else a @ b


def _gram(a, v):
    b = a * torch.sqrt(v)
    return b.T @ b


def _sigmoid_prime(z):
    e = torch.exp(-torch.abs(z))
    return e / ((1 + e) * (1 + e))


def _tanh_prime(z):
    e = torch.exp(-2 * torch.abs(z))
    return 4 * e / ((1 + e) * (1 + e))


def _silu_prime(z):
    """SiLU′(z) = σ(z)(1 + z σ(−z)), both σ from e = exp(−|z|) (finite at any argument; as NumPy's)."""
    e = torch.exp(-torch.abs(z))
    big, small = 1 / (1 + e), e / (1 + e)
    positive = z >= 0
    return torch.where(positive, big, small) * (1 + z * torch.where(positive, small, big))


def _step(a):
    return (a > 0).to(a.dtype)


def _heaviside(a, h0):
    return torch.where(a > 0, 1.0, torch.where(a < 0, 0.0, h0)).to(a.dtype)


def _pad(a, widths):
    """np.pad(a, ((top, bottom), (left, right))) with zeros: a sliced matrix's gradient in its block."""
    (top, bottom), (left, right) = widths
    return torch.nn.functional.pad(a, (left, right, top, bottom))


def _plus_transpose(a):
    return a + a.T


def _softmax(a, axis):
    return torch.softmax(a, dim=axis)


def _log_softmax(a, axis):
    return torch.log_softmax(a, dim=axis)


def _cross_entropy(y, p):
    return -torch.sum(y * torch.log(p))


def _binary_cross_entropy(y, p):
    return -torch.sum(y * torch.log(p) + (1 - y) * torch.log1p(-p))


def _erf(x):
    return torch.special.erf(x)


def _first_indicator(index, a, axis):
    """1 at the first arg-max (arg-min) along ``axis``, in a's dtype."""
    return torch.zeros_like(a).scatter(axis, index.unsqueeze(axis), 1)


def _im2col(x, width, stride, padding):
    if padding:
        x = torch.nn.functional.pad(x, (0, 0, padding, padding))
    windows = x.unfold(0, width, stride)  # T_out × c × width
    return windows.transpose(1, 2).reshape(windows.shape[0], -1)


def _col2im(g, length, width, stride, padding):
    rows, c = g.shape[0], g.shape[1] // width
    out = torch.zeros((length + 2 * padding, c), dtype=g.dtype, device=g.device)
    for k in range(width):
        out[k:k + stride * (rows - 1) + 1:stride] += g[:, k * c:(k + 1) * c]
    return out[padding:padding + length]


def _max_pool1d(x, width, stride):
    return x.unfold(0, width, stride).amax(dim=2)


def _to_window_max(g, x, width, stride):
    rows = stride * torch.arange(g.shape[0], device=g.device)[:, None] + x.unfold(0, width, stride).argmax(dim=2)
    cols = torch.arange(x.shape[1], device=g.device).expand_as(rows)
    return torch.zeros(x.shape, dtype=g.dtype, device=g.device).index_put((rows, cols), g, accumulate=True)


def _solve(a, b):
    """a⁻¹ b by an LU solve, the inverse never formed (no singularity check: the NumPy kernel has it)."""
    return torch.linalg.solve(a, b)


def _inv(a):
    return torch.linalg.inv(a)


def _det(a):
    return torch.linalg.det(a)


def _logdet(a):
    return torch.linalg.slogdet(a)[1]
