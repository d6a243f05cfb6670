"""The runtime of generated JAX kernels (copied into each module after the checks): the stable
lowerings of the vector ops in ``jax.numpy`` and the checks' view of a JAX array."""

import jax
import jax.numpy as jnp
import numpy as np

_ARRAY_WORDS = "a JAX or NumPy array"


def _is_array(a):
    return isinstance(a, (jax.Array, np.ndarray))


def _float_dtype(a):
    return a.dtype in (jnp.float32, jnp.float64)


def _float64_refused(a):
    # with 64-bit mode off JAX computes a float64 array in float32, silently: refuse, naming the switch
    if a.dtype == np.float64 and jax.dtypes.canonicalize_dtype(jnp.float64) != jnp.float64:
        return ('JAX\'s 64-bit mode is off, so JAX would compute in float32: call '
                'jax.config.update("jax_enable_x64", True) first, or pass float32 arrays')
    return None


def _is_float32(a):
    return a.dtype == jnp.float32


def _host(x):
    return float(x)


def _all_finite(a):
    return jnp.isfinite(a).all()


def _causal_mask(n, dtype):
    return jnp.triu(jnp.full((n, n), -jnp.inf, dtype=dtype), 1)


def _lower_mask(n, dtype):
    return jnp.tril(jnp.ones((n, n), dtype=dtype))


def _scalar(a):
    return a.reshape(())


def _mm(a, b):
    return a * b if a.shape[1] == 1 else a @ b


def _gram(a, v):
    b = a * jnp.sqrt(v)
    return b.T @ b


def _sigmoid_prime(z):
    e = jnp.exp(-jnp.abs(z))
    return e / ((1 + e) * (1 + e))


def _tanh_prime(z):
    e = jnp.exp(-2 * jnp.abs(z))
    return 4 * e / ((1 + e) * (1 + e))


def _silu_prime(z):
    """SiLU′(z) = σ(z)(1 + z σ(−z)), both σ from e = exp(−|z|) (finite at any argument; as NumPy's)."""
    e = jnp.exp(-jnp.abs(z))
    big, small = 1 / (1 + e), e / (1 + e)
    positive = z >= 0
    return jnp.where(positive, big, small) * (1 + z * jnp.where(positive, small, big))


def _step(a):
    return (a > 0).astype(a.dtype)


def _plus_transpose(a):
    return a + a.T


def _softmax(a, axis):
    return jax.nn.softmax(a, axis=axis)


def _log_softmax(a, axis):
    return jax.nn.log_softmax(a, axis=axis)


def _cross_entropy(y, p):
    return -jnp.sum(y * jnp.log(p))


def _binary_cross_entropy(y, p):
    return -jnp.sum(y * jnp.log(p) + (1 - y) * jnp.log1p(-p))


def _erf(x):
    return jax.scipy.special.erf(x)


def _first_indicator(index, a, axis):
    return jax.nn.one_hot(index, a.shape[axis], axis=axis, dtype=a.dtype)


def _im2col(x, width, stride, padding):
    x = jnp.pad(x, ((padding, padding), (0, 0)))
    rows = (x.shape[0] - width) // stride + 1
    return jnp.concatenate([x[k:k + stride * (rows - 1) + 1:stride] for k in range(width)], axis=1)


def _col2im(g, length, width, stride, padding):
    rows, c = g.shape[0], g.shape[1] // width
    out = jnp.zeros((length + 2 * padding, c), dtype=g.dtype)
    for k in range(width):
        out = out.at[k:k + stride * (rows - 1) + 1:stride].add(g[:, k * c:(k + 1) * c])
    return out[padding:padding + length]


def _max_pool1d(x, width, stride):
    rows = (x.shape[0] - width) // stride + 1
    return jnp.max(jnp.stack([x[k:k + stride * (rows - 1) + 1:stride] for k in range(width)]), axis=0)


def _to_window_max(g, x, width, stride):
    rows = g.shape[0]
    taps = jnp.stack([x[k:k + stride * (rows - 1) + 1:stride] for k in range(width)])
    winner = jax.nn.one_hot(jnp.argmax(taps, axis=0), width, axis=0, dtype=g.dtype)
    out = jnp.zeros(x.shape, dtype=g.dtype)
    for k in range(width):
        out = out.at[k:k + stride * (rows - 1) + 1:stride].add(winner[k] * g)
    return out


def _solve(a, b):
    """a⁻¹ b by an LU solve, the inverse never formed (no singularity check: it would stop a traced
    function; the NumPy kernel refuses a singular matrix)."""
    return jnp.linalg.solve(a, b)


def _inv(a):
    return jnp.linalg.inv(a)


def _det(a):
    return jnp.linalg.det(a)


def _logdet(a):
    return jnp.linalg.slogdet(a)[1]
