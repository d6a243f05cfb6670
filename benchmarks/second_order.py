"""Benchmark: generated second-order kernels against JAX (jit of jax.hessian / jvp-of-grad) and PyTorch
(torch.func.hessian / jvp-of-grad), single-threaded, side by side in one process, medians of
interleaved calls; every result is asserted equal to the kernel's before anything is timed.

    python benchmarks/second_order.py [--calls 30]

Rows (the cases tensorgrad publishes figures for, and the notes' network):
  Hessian of xᵀAx at n = 2048; logistic-regression Hessian at (n, d) = (2048, 256) and (2048, 32);
  log-sum-exp Hessian at n = 2048; HVP of the §3 network in W at (D_x, D_h, N_c, B) = (784, 256, 10, 64).
JAX or PyTorch missing: its column says so.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import jacobian_sym as js  # noqa: E402


def _cases(rng):
    """(name, kernel call, JAX call or None, PyTorch call or None), all on the same float64 arrays."""
    out = []
    x, A = js.vector("x", "n"), js.matrix("A", "n", "n")
    n = 2048
    xv, Av = rng.normal(size=(n, 1)), rng.normal(size=(n, n))
    k = js.kernel(js.hessian(x.T @ A @ x, x))
    out.append(("Hessian of xᵀAx, n = 2048", lambda: k(A=Av, check=False),
                ("quad", (xv, Av)), ("quad", (xv, Av))))
    X, w, y = js.matrix("X", "B", "d"), js.vector("w", "d"), js.vector("y", "B")
    J = js.binary_cross_entropy(y, js.sigmoid(X @ w))
    kl = js.kernel(js.hessian(J, w))
    for B, d in ((2048, 256), (2048, 32)):
        Xv, wv = rng.normal(size=(B, d)) / np.sqrt(d), rng.normal(size=(d, 1))
        yv = rng.uniform(0.05, 0.95, size=(B, 1))
        out.append((f"logistic Hessian, (n, d) = ({B}, {d})", lambda Xv=Xv, wv=wv: kl(X=Xv, w=wv, check=False),
                    ("logistic", (Xv, wv, yv)), ("logistic", (Xv, wv, yv))))
    t = js.vector("t", "n")
    ks = js.kernel(js.hessian(js.log(js.sum(js.exp(t))), t))
    tv = rng.normal(size=(n, 1))
    out.append(("log-sum-exp Hessian, n = 2048", lambda: ks(t=tv, check=False), ("lse", (tv,)), ("lse", (tv,))))
    model = js.Model.from_toml("derivations/one_layer.toml").batched("B")
    Wn = next(node for node in model.loss.walk() if node.name == "W")
    kh = js.kernel(js.hvp(model.loss, Wn, js.matrix("V", *Wn.shape)))
    D_x, D_h, N_c, B = 784, 256, 10, 64
    arrays = dict(x=rng.normal(size=(D_x, B)), W=rng.normal(0, 0.05, (D_h, D_x)), b1=rng.normal(0, 0.1, (D_h, 1)),
                  U=rng.normal(0, 0.1, (N_c, D_h)), b2=rng.normal(0, 0.1, (N_c, 1)),
                  y=np.eye(N_c)[:, rng.integers(0, N_c, B)], V=rng.normal(size=(D_h, D_x)))
    used = {k: v for k, v in arrays.items() if k in kh.inputs}
    out.append(("HVP of the §3 network in W, (784, 256, 10, 64)", lambda: kh(**used, check=False),
                ("mlp", arrays), ("mlp", arrays)))
    return out


def _jax_calls():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def quad(x, A):
        return (x.T @ A @ x)[0, 0]

    def logistic(w, X, y):
        p = jax.nn.sigmoid(X @ w)
        return -jnp.sum(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))

    def lse(t):
        return jax.scipy.special.logsumexp(t)

    def mlp(W, x, y, b1, U, b2):
        h = jax.nn.relu(W @ x + b1)
        return -jnp.sum(y * jax.nn.log_softmax(U @ h + b2, axis=0))

    h_quad = jax.jit(jax.hessian(quad))
    h_log = jax.jit(jax.hessian(logistic))
    h_lse = jax.jit(jax.hessian(lse))
    hvp = jax.jit(lambda W, V, x, y, b1, U, b2: jax.jvp(lambda W_: jax.grad(mlp)(W_, x, y, b1, U, b2), (W,), (V,))[1])
    return {
        "quad": lambda x, A: np.asarray(h_quad(x, A)).reshape(x.shape[0], x.shape[0]),
        "logistic": lambda X, w, y: np.asarray(h_log(w, X, y)).reshape(w.shape[0], w.shape[0]),
        "lse": lambda t: np.asarray(h_lse(t)).reshape(t.shape[0], t.shape[0]),
        "mlp": lambda a: np.asarray(hvp(a["W"], a["V"], a["x"], a["y"], a["b1"], a["U"], a["b2"])),
    }


def _torch_calls():
    try:
        import torch
        from torch.func import grad, hessian, jvp
    except ImportError:
        return None
    torch.set_num_threads(1)

    def quad(x, A):
        return (x.T @ A @ x)[0, 0]

    def logistic(w, X, y):
        p = torch.sigmoid(X @ w)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).sum()

    def lse(t):
        return torch.logsumexp(t, dim=0)[0]

    def mlp(W, x, y, b1, U, b2):
        h = torch.relu(W @ x + b1)
        return -(y * torch.log_softmax(U @ h + b2, dim=0)).sum()

    T = torch.from_numpy
    return {
        "quad": lambda x, A: hessian(quad)(T(x), T(A)).numpy().reshape(x.shape[0], x.shape[0]),
        "logistic": lambda X, w, y: hessian(logistic)(T(w), T(X), T(y)).numpy().reshape(w.shape[0], w.shape[0]),
        "lse": lambda t: hessian(lse)(T(t)).numpy().reshape(t.shape[0], t.shape[0]),
        "mlp": lambda a: jvp(lambda W_: grad(mlp)(W_, T(a["x"]), T(a["y"]), T(a["b1"]), T(a["U"]), T(a["b2"])),
                             (T(a["W"]),), (T(a["V"]),))[1].numpy(),
    }


def _bind(calls, spec):
    if calls is None:
        return None
    kind, args = spec
    if kind == "mlp":
        return lambda: calls["mlp"](args)
    return lambda: calls[kind](*args)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with threadpool_limits(limits=1):
        jax_calls, torch_calls = _jax_calls(), _torch_calls()
        print(f"ms per call, median of {args.calls} interleaved calls, one thread; ratio = peer / kernel")
        print(f"{'case':<48} {'kernel':>9} {'JAX jit':>17} {'PyTorch':>17}")
        for name, kernel, jax_spec, torch_spec in _cases(rng):
            peers = {"JAX": _bind(jax_calls, jax_spec), "PyTorch": _bind(torch_calls, torch_spec)}
            want = np.asarray(kernel())
            for peer, call in peers.items():
                if call is not None:
                    got = np.asarray(call())
                    scale = np.linalg.norm(want)
                    assert np.linalg.norm(got.reshape(want.shape) - want) <= 1e-8 * max(scale, 1.0), (name, peer)
            times = {"kernel": [], **{p: [] for p, c in peers.items() if c is not None}}
            calls = {"kernel": kernel, **{p: c for p, c in peers.items() if c is not None}}
            for _ in range(args.calls):
                for who, call in calls.items():
                    t0 = time.perf_counter()
                    call()
                    times[who].append(time.perf_counter() - t0)
            med = {who: statistics.median(v) * 1e3 for who, v in times.items()}
            cells = [f"{med[p]:8.2f} ({med[p] / med['kernel']:5.1f}×)" if p in med else f"{'not installed':>17}"
                     for p in ("JAX", "PyTorch")]
            print(f"{name:<48} {med['kernel']:9.2f} {cells[0]:>17} {cells[1]:>17}")


if __name__ == "__main__":
    main()
