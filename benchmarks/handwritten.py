"""The notes' network, forward and backward, written by hand in NumPy (the benchmark's reference).

Idiomatic and numerically stable: one max-subtracted exponential pass for softmax and the
log-sum-exp cross-entropy, BLAS products, no validation of the inputs.
"""

import numpy as np


def one_layer(*, x, y, W, b1, U, b2):
    z = W @ x + b1
    h = np.maximum(z, 0)
    theta = U @ h + b2
    shifted = theta - theta.max(axis=0, keepdims=True)
    log_yhat = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    yhat = np.exp(log_yhat)
    J = -np.sum(y * log_yhat)
    d1 = yhat - y
    d2 = (U.T @ d1) * (z > 0)
    outer = (lambda a, b: a * b) if x.shape[1] == 1 else (lambda a, b: a @ b)
    return {"J": J, "U": outer(d1, h.T), "b2": d1.sum(axis=1, keepdims=True), "W": outer(d2, x.T),
            "b1": d2.sum(axis=1, keepdims=True), "x": W.T @ d2}


# ----- layer norm, attention, the transformer block -----
# Written as the standard references do: layer norm's backward in its textbook form
# dX = rstd ∘ (G − mean(G) − x̂ ∘ mean(G ∘ x̂)) per row (Ba et al. 2016; the cs231n batch-norm
# derivation transposed to rows), softmax's backward dS = A ∘ (dA − rowsum(dA ∘ A)), each head's
# values computed once as X V, masked scores with −∞ made finite by the max subtraction.

EPS = 1e-5
GELU_C = 0.7978845608028654  # √(2/π)


def _ln_forward(x, gamma, beta):
    xc = x - x.mean(axis=1, keepdims=True)
    rstd = 1 / np.sqrt((xc * xc).mean(axis=1, keepdims=True) + EPS)
    xhat = xc * rstd
    return xhat * gamma + beta, xhat, rstd


def _ln_backward(g, xhat, rstd, gamma, want_dx=True):
    """(dX, dγ, dβ) from the output's gradient g (dX None when the input is data)."""
    dx = None
    if want_dx:
        gx = g * gamma
        dx = rstd * (gx - gx.mean(axis=1, keepdims=True) - xhat * (gx * xhat).mean(axis=1, keepdims=True))
    return dx, (g * xhat).sum(axis=0, keepdims=True), g.sum(axis=0, keepdims=True)


def layer_norm(*, X, Y, g, b):
    out, xhat, rstd = _ln_forward(X, g, b)
    d = out - Y
    dX, dg, db = _ln_backward(d, xhat, rstd, g)
    return {"J": 0.5 * np.sum(d * d), "g": dg, "b": db, "X": dX}


def _softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _heads_forward(x, M, heads, scale):
    """Each head's (q, k, v, A) and the heads' outputs side by side."""
    cache = []
    for Q, K, V in heads:
        q, k, v = x @ Q, x @ K, x @ V
        A = _softmax_rows((q @ k.T) * scale + M)
        cache.append((q, k, v, A))
    return cache, np.concatenate([A @ v for (_, _, v, A) in cache], axis=1)


def _heads_backward(dH, x, heads, cache, scale):
    """Each head's (dQ, dK, dV) and the gradient by their common input x."""
    width = heads[0][0].shape[1]
    grads, dx = [], np.zeros_like(x)
    for h, ((Q, K, V), (q, k, v, A)) in enumerate(zip(heads, cache)):
        dh = dH[:, h * width:(h + 1) * width]
        dA = dh @ v.T
        dS = A * (dA - (dA * A).sum(axis=1, keepdims=True)) * scale
        dq, dk, dv = dS @ k, dS.T @ q, A.T @ dh
        grads.append((x.T @ dq, x.T @ dk, x.T @ dv))
        dx += dq @ Q.T + dk @ K.T + dv @ V.T
    return grads, dx


def _head_params(p, n):
    return [(p[f"Q{h}"], p[f"K{h}"], p[f"V{h}"]) for h in range(1, n + 1)]


def _named_head_grads(grads):
    return {f"{w}{h}": g for h, triple in enumerate(grads, 1) for w, g in zip("QKV", triple)}


def attention(*, X, Y, M, W_o, scale, **p):
    heads = _head_params(p, len(p) // 3)
    cache, H = _heads_forward(X, M, heads, scale)
    d = H @ W_o - Y
    grads, _ = _heads_backward(d @ W_o.T, X, heads, cache, scale)
    return {"J": 0.5 * np.sum(d * d), "W_o": H.T @ d, **_named_head_grads(grads)}


def block(*, X, Y, M, gamma1, beta1, W_o, gamma2, beta2, W1, b1, W2, b2, scale, **p):
    heads = _head_params(p, len(p) // 3)
    h1, xhat1, rstd1 = _ln_forward(X, gamma1, beta1)
    cache, H = _heads_forward(h1, M, heads, scale)
    x2 = X + H @ W_o
    h2, xhat2, rstd2 = _ln_forward(x2, gamma2, beta2)
    u = h2 @ W1 + b1
    t = np.tanh(GELU_C * (u + 0.044715 * u * u * u))  # (u ** 3 in float32 is 30× slower: NumPy's powf)
    gelu = 0.5 * u * (1 + t)
    d = x2 + gelu @ W2 + b2 - Y
    # backward
    du = (d @ W2.T) * (0.5 * (1 + t) + 0.5 * u * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * u * u))
    dx2_ln, dgamma2, dbeta2 = _ln_backward(du @ W1.T, xhat2, rstd2, gamma2)
    dx2 = d + dx2_ln
    grads, dh1 = _heads_backward(dx2 @ W_o.T, h1, heads, cache, scale)
    _, dgamma1, dbeta1 = _ln_backward(dh1, xhat1, rstd1, gamma1, want_dx=False)
    return {"J": 0.5 * np.sum(d * d), "gamma1": dgamma1, "beta1": dbeta1, **_named_head_grads(grads),
            "W_o": H.T @ dx2, "gamma2": dgamma2, "beta2": dbeta2, "W1": h2.T @ du, "b1": du.sum(axis=0, keepdims=True),
            "W2": gelu.T @ d, "b2": d.sum(axis=0, keepdims=True)}
