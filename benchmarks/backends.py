"""Benchmark: the generated kernel on each engine against that engine's own autodiff, side by side in
one process, one thread (threadpoolctl for NumPy's BLAS, torch.set_num_threads(1), XLA's CPU client
single-threaded), medians of interleaved rounds, ratios.

    python benchmarks/backends.py [--calls 40] [--quick] [--dtype float32] [--compile] [--device cpu]

Rows: the notes' network (derivations/one_layer.toml), layer norm (derivations/layer_norm.toml),
4-head causal attention and the pre-LN block (benchmarks/transformer.py's model texts), a GeGLU MLP
and a weight-normalised layer, as a matrix and as one unit on column examples (written below).
Columns, µs per forward + backward:

* numpy: the NumPy kernel, check=False;
* jax kernel: ``<name>_loss_and_grads`` (jit); jax autodiff: ``jax.jit(jax.value_and_grad(f))`` of the
  generated forward ``_<name>_forward`` (the same jax.numpy ops, differentiated by JAX);
* torch kernel: the generated ``autograd.Function`` (forward, then ``backward()``); torch eager:
  autograd through the generated forward (the same torch ops); torch.compile of that (``--compile``:
  needs a C compiler; a failure is reported in the cell).

Every contender's loss and gradients are asserted equal to the NumPy kernel's before anything is
timed. Targets: jax kernel ≤ 1.0× jax autodiff, torch kernel ≤ 1.0× torch eager, numpy ≤ 1.3× jax
autodiff.
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
import transformer  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import jacobian_sym as js  # noqa: E402
from jacobian_sym.kernels.timing import median_us  # noqa: E402

ROOT = Path(__file__).parent.parent

GEGLU = """title = "A GeGLU MLP: (gelu(X W1) * (X V1)) W2, then a squared error"
[inputs]
X = ["T", "d"]
Y = ["T", "d"]
[params]
W1 = ["d", "m"]
V1 = ["d", "m"]
W2 = ["m", "d"]
[forward]
h = "gelu(X @ W1) * (X @ V1)"
out = "h @ W2"
J = "mse(Y, out)"
"""

WEIGHT_NORM = """title = "A weight-normalised layer: X (g V / norm(V)), then a squared error"
[inputs]
X = ["T", "d"]
Y = ["T", "m"]
[params]
V = ["d", "m"]
g = [1, 1]
[forward]
W = "g * V / norm(V)"
out = "X @ W"
J = "mse(Y, out)"
"""

#: Salimans & Kingma 2016, eq. 2 (w = g v / ‖v‖, y = w·x), a column per example: ∂J/∂v reads v δ xᵀ v
WEIGHT_NORM_COLUMN = """title = "A weight-normalised unit on column examples: (g v / norm(v))ᵀ x"
[inputs]
x = ["d", 1]
y = [1, 1]
[params]
v = ["d", 1]
g = [1, 1]
[forward]
w = "g * v / norm(v)"
out = "w.T @ x"
J = "mse(y, out)"
"""


def cases(quick):
    s = (lambda small, big: small) if quick else (lambda small, big: big)
    return [
        ("notes' network", js.Model.from_toml(ROOT / "derivations/one_layer.toml"),
         dict(D_x=784, D_h=256, N_c=10, B=s(8, 64))),
        ("layer norm", js.Model.from_toml(ROOT / "derivations/layer_norm.toml"), dict(T=s(32, 256), d=s(64, 512))),
        ("attention, 4 heads", js.Model.parse(transformer.attention_text(4, 0.25)), dict(T=s(32, 128), d=64, k=16)),
        ("pre-LN block, 4 heads", js.Model.parse(transformer.block_text(4, 0.125)),
         dict(T=s(32, 128), d=s(64, 256), k=s(16, 64), m=s(128, 1024))),
        ("GeGLU MLP", js.Model.parse(GEGLU), dict(T=s(32, 128), d=s(64, 256), m=s(128, 1024))),
        ("weight-normalised layer", js.Model.parse(WEIGHT_NORM), dict(T=s(32, 256), d=s(64, 512), m=s(64, 512))),
        ("weight-normalised unit, column examples", js.Model.parse(WEIGHT_NORM_COLUMN),
         dict(d=s(64, 1024), B=s(32, 256))),
    ]


def arrays(bp, f, sizes, dtype, rng):
    """Random arrays at ``sizes``: one-hot labels where declared, a causal mask M when the model has one."""
    from jacobian_sym.kernels.timing import random_arrays

    full = dict(sizes)
    if "B" not in full:
        full["B"] = 1
    a = random_arrays(f, full, rng, dtype)
    if "M" in a:
        T = a["M"].shape[0]
        a["M"] = np.triu(np.full((T, T), -np.inf), 1).astype(dtype)
    return a


def agree(name, got, want, dtype):
    tol = 1e-9 if dtype == np.float64 else 3e-3
    for key, w in want.items():
        g = np.asarray(got[key], dtype=np.float64)
        err = np.linalg.norm(g - w) / max(np.linalg.norm(w), 1e-30)
        assert err <= tol, f"{name}: {key} differs from the NumPy kernel's by {err:.1e}"


def contenders(bp, a, dtype, device, compile_):
    f = js.kernel(bp)
    out = {"numpy": lambda: f(**a, check=False)}
    names = list(f.inputs)
    wrt = [g for g in bp.model.wrt if g in names]
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        fj = js.kernel(bp, backend="jax")
        m = fj.module
        args = [jnp.asarray(a[n]) for n in names]
        kern = getattr(m, f"{fj.name}_loss_and_grads")
        jax_forward = getattr(m, f"_{fj.name}_forward")
        argnums = tuple(names.index(g) for g in wrt)
        auto = jax.jit(jax.value_and_grad(lambda *x: jax_forward(*x)[0], argnums=argnums))

        def jax_kernel():
            return jax.block_until_ready(kern(*args))

        def jax_auto():
            J, g = jax.block_until_ready(auto(*args))
            return {"J": J, **dict(zip(wrt, g))}

        out["jax kernel"], out["jax autodiff"] = jax_kernel, jax_auto
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)
        ft = js.kernel(bp, backend="torch")
        m = ft.module
        fn = getattr(m, f"{m.CLASS}Function")
        t = {k: torch.from_numpy(v).to(device).requires_grad_(k in wrt) for k, v in a.items()}
        torch_forward = getattr(m, f"_{ft.name}_forward")

        def run(loss_of):
            def call():
                for k in wrt:
                    t[k].grad = None
                J = loss_of(*(t[n] for n in names))
                J.sum().backward()
                if device != "cpu":
                    torch.cuda.synchronize()
                return {"J": J.detach().cpu(), **{k: t[k].grad.cpu() for k in wrt}}
            return call

        out["torch kernel"] = run(fn.apply)
        out["torch eager"] = run(lambda *x: torch_forward(*x)[0])
        if compile_:
            try:
                sys.modules[m.__name__] = m  # dynamo re-imports a function's module by name
                compiled = torch.compile(lambda *x: torch_forward(*x)[0])
                call = run(compiled)
                call()
                out["torch.compile"] = call
            except Exception as err:  # offline, no compiler: say so in the table
                print(f"torch.compile failed: {type(err).__name__}: {str(err)[:120]}", file=sys.stderr)
    except ImportError:
        pass
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--device", default="cpu")
    opts = ap.parse_args()
    dtype = np.dtype(opts.dtype).type
    rng = np.random.default_rng(0)
    columns = ["numpy", "jax kernel", "jax autodiff", "torch kernel", "torch eager", "torch.compile"]
    rows = []
    with threadpool_limits(limits=1):
        for label, model, sizes in cases(opts.quick):
            bp = js.backprop(model)
            a = arrays(bp, js.kernel(bp), sizes, dtype, rng)
            fns = contenders(bp, a, dtype, opts.device, opts.compile)
            want = {k: np.asarray(v, dtype=np.float64) for k, v in fns["numpy"]().items()}
            for name, fn in fns.items():
                agree(name, fn(), want, dtype)  # equal before timed (and warmed up)
            samples = {name: [] for name in fns}
            for _ in range(5):
                for name, fn in fns.items():
                    samples[name].append(median_us(fn, max(1, opts.calls // 5)))
            med = {name: statistics.median(v) for name, v in samples.items()}
            size = ", ".join(f"{k}={v}" for k, v in sizes.items())
            rows.append((f"{label} ({size})", med))
            print(f"{label}: " + ", ".join(f"{k} {v:.0f}" for k, v in med.items()), file=sys.stderr, flush=True)
    present = [c for c in columns if any(c in med for _, med in rows)]
    print(f"| model ({opts.dtype}) | " + " | ".join(present) + " | jax kernel / autodiff | torch kernel / eager "
          "| numpy / jax autodiff |")
    print("|---" * (len(present) + 4) + "|")
    for label, med in rows:
        cells = [f"{med[c]:.0f}" if c in med else "–" for c in present]

        ratios = [_ratio(med, a, b) for a, b in (("jax kernel", "jax autodiff"), ("torch kernel", "torch eager"),
                                                  ("numpy", "jax autodiff"))]
        print(f"| {label} | " + " | ".join(cells + ratios) + " |")


def _ratio(med, a, b):
    return f"{med[a] / med[b]:.2f}" if a in med and b in med else "–"


if __name__ == "__main__":
    main()
