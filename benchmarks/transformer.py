"""Benchmark: generated kernels of layer norm, multi-head causal attention and a pre-LN transformer
block against hand-written NumPy (benchmarks/handwritten.py), JAX jit(value_and_grad) and PyTorch
eager when installed; single-threaded BLAS (pinned at run time with threadpoolctl), interleaved in
one process, medians; every contender's loss and gradients are asserted equal to the hand-written
ones before anything is timed. Also the symbolic cost of the block, cold (a fresh process each).

    python benchmarks/transformer.py [--calls 60] [--quick]

The attention and block models are written here for H heads, as a person writes them (each head's
values as A (X V), the heads side by side with concat, W_o of H·k rows); the scale is 1/√k.
"""

import argparse
import os
import statistics
import subprocess
import sys
from functools import partial
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
sys.path.insert(0, str(Path(__file__).parent))

import handwritten  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import jacobian_sym as js  # noqa: E402
from jacobian_sym.kernels.timing import median_us  # noqa: E402

ROOT = Path(__file__).parent.parent


def _concat(names):
    out = names[0]
    for name in names[1:]:
        out = f"concat({out}, {name}, axis=1)"
    return out


def _heads(x, heads, scale, lines):
    for h in range(1, heads + 1):
        lines += [f's{h} = "({x} @ Q{h}) @ ({x} @ K{h}).T * {scale} + M"', f'A{h} = "softmax(s{h}, axis=1)"',
                  f'o{h} = "A{h} @ ({x} @ V{h})"']
    lines.append(f'H = "{_concat([f"o{h}" for h in range(1, heads + 1)])}"')


def _head_params(heads):
    return [f'{w}{h} = ["d", "k"]' for h in range(1, heads + 1) for w in "QKV"] + [f'W_o = ["{heads}*k", "d"]']


def attention_text(heads, scale):
    lines = [f'title = "{heads}-head causal attention"', "[inputs]", 'X = ["T", "d"]', 'Y = ["T", "d"]',
             'M = ["T", "T"]', "[params]", *_head_params(heads), "[forward]"]
    _heads("X", heads, scale, lines)
    lines += ['O = "H @ W_o"', 'J = "mse(Y, O)"']
    return "\n".join(lines) + "\n"


def block_text(heads, scale):
    lines = [f'title = "A pre-LN transformer block, {heads} heads"', "[inputs]", 'X = ["T", "d"]', 'Y = ["T", "d"]',
             'M = ["T", "T"]', "[params]", 'gamma1 = [1, "d"]', 'beta1 = [1, "d"]', *_head_params(heads),
             'gamma2 = [1, "d"]', 'beta2 = [1, "d"]', 'W1 = ["d", "m"]', 'b1 = [1, "m"]', 'W2 = ["m", "d"]',
             'b2 = [1, "d"]', "[forward]", 'n1 = "layer_norm(X, axis=1)"', 'h1 = "n1 * gamma1 + beta1"']
    _heads("h1", heads, scale, lines)
    lines += ['x2 = "X + H @ W_o"', 'n2 = "layer_norm(x2, axis=1)"', 'h2 = "n2 * gamma2 + beta2"',
              'u = "h2 @ W1 + b1"', 'out = "x2 + gelu(u) @ W2 + b2"', 'J = "mse(Y, out)"']
    return "\n".join(lines) + "\n"


# ----- the peers: the same forward in JAX and PyTorch, differentiated by them -----
def _forward(xp, softmax, p, kind, heads, scale):
    def ln(x, g, b):
        mu = x.mean(axis=1, keepdims=True) if xp is not None else x.mean(dim=1, keepdim=True)
        xc = x - mu
        var = (xc * xc).mean(axis=1, keepdims=True) if xp is not None else (xc * xc).mean(dim=1, keepdim=True)
        return xc / (var + 1e-5) ** 0.5 * g + b

    def attend(x):
        outs = [softmax((x @ p[f"Q{h}"]) @ (x @ p[f"K{h}"]).T * scale + p["M"]) @ (x @ p[f"V{h}"])
                for h in range(1, heads + 1)]
        return (xp.concatenate(outs, axis=1) if xp is not None else _torch().cat(outs, dim=1)) @ p["W_o"]

    if kind == "layer_norm":
        out = ln(p["X"], p["g"], p["b"])
    elif kind == "attention":
        out = attend(p["X"])
    else:
        x2 = p["X"] + attend(ln(p["X"], p["gamma1"], p["beta1"]))
        u = ln(x2, p["gamma2"], p["beta2"]) @ p["W1"] + p["b1"]
        tanh = xp.tanh if xp is not None else _torch().tanh
        gelu = 0.5 * u * (1 + tanh(handwritten.GELU_C * (u + 0.044715 * u**3)))
        out = x2 + gelu @ p["W2"] + p["b2"]
    return 0.5 * ((out - p["Y"]) ** 2).sum()


def _torch():
    import torch

    return torch


def peers(kind, heads, scale, wrt):
    found = {}
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def loss(params, data):
            return _forward(jnp, lambda s: jax.nn.softmax(s, axis=1), {**params, **data}, kind, heads, scale)

        grad = jax.jit(jax.value_and_grad(loss))

        def jax_call(a):
            params = {k: jnp.asarray(v) for k, v in a.items() if k in wrt}
            data = {k: jnp.asarray(v) for k, v in a.items() if k not in wrt}

            def run():
                J, g = jax.block_until_ready(grad(params, data))
                return {"J": J, **g}
            return run

        found["jax"] = jax_call
    except ImportError:
        pass
    try:
        torch = _torch()
        torch.set_num_threads(1)

        def torch_call(a):
            t = {k: torch.from_numpy(v).requires_grad_(k in wrt) for k, v in a.items()}

            def run():
                for k in wrt:
                    t[k].grad = None
                J = _forward(None, lambda s: torch.softmax(s, dim=1), t, kind, heads, scale)
                J.backward()
                return {"J": J.detach(), **{k: t[k].grad for k in wrt}}
            return run

        found["torch"] = torch_call
    except ImportError:
        pass
    return found


def _agree(name, got, want, dtype):
    tol = 1e-9 if dtype == np.float64 else 2e-3
    for key, w in want.items():
        g = np.asarray(got[key], dtype=np.float64)
        err = np.linalg.norm(g - w) / max(np.linalg.norm(w), 1e-30)
        assert err <= tol, f"{name}: {key} differs from the hand-written value by {err:.1e}"


def _arrays(model, sizes, dtype, rng):
    out = {}
    for name, node in model.variables.items():
        shape = tuple(int(str(d).replace("*", " ").split()[0]) * sizes[str(d).split("*")[-1]] if "*" in str(d)
                      else sizes.get(str(d), None) or int(str(d)) for d in node.shape)
        out[name] = rng.normal(0, 1 if name in ("X", "Y") else 0.1, size=shape)
    out["M"] = np.triu(np.full((sizes["T"], sizes["T"]), -np.inf), 1) if "M" in out else None
    return {k: v.astype(dtype) for k, v in out.items() if v is not None}


def bench(label, model, kind, sizes, heads, scale, hand, calls):
    kernel = js.kernel(js.backprop(model))
    fast = getattr(kernel.module, kernel.name)
    wrt = list(model.wrt)
    others = peers(kind, heads, scale, wrt)
    rng = np.random.default_rng(0)
    rows = []
    for dtype in (np.float32, np.float64):
        a = _arrays(model, sizes, dtype, rng)
        extra = {"scale": scale} if kind != "layer_norm" else {}
        hand_fn = partial(hand, **a, **extra)
        want = {k: np.asarray(v, dtype=np.float64) for k, v in hand_fn().items() if k == "J" or k in wrt}
        candidates = {"hand": hand_fn, "kernel": partial(fast, **a, check=False)}
        for name, make in others.items():
            candidates[name] = make(a)
        for name, fn in candidates.items():  # equal before timed (and warmed up)
            _agree(name, fn(), want, dtype)
        samples = {name: [] for name in candidates}
        for _ in range(5):  # interleaved rounds
            for name, fn in candidates.items():
                samples[name].append(median_us(fn, max(1, calls // 5)))
        med = {name: statistics.median(v) for name, v in samples.items()}
        rows.append((label, np.dtype(dtype).name, med))
    return rows


def cold(what, heads, scale):
    """Seconds for js.backprop and js.kernel of the block in a fresh process (SymPy caches empty)."""
    code = (f"import sys, time; sys.path.insert(0, {str(Path(__file__).parent)!r}); import transformer as t; "
            "import jacobian_sym as js; m = js.Model.parse(t.block_text(%d, %r)); "
            "a = time.perf_counter(); bp = js.backprop(m); b = time.perf_counter(); js.kernel(bp); "
            "c = time.perf_counter(); print(b - a, c - b)" % (heads, scale))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="the smallest size of each model only")
    args = parser.parse_args()
    threadpool_limits(1)
    cases = []
    ln = js.Model.from_toml(str(ROOT / "derivations/layer_norm.toml"))
    for T, d in ((128, 256), (512, 1024)) if not args.quick else ((128, 256),):
        cases.append((f"layer norm T={T} d={d}", ln, "layer_norm", {"T": T, "d": d}, 0, 0, handwritten.layer_norm))
    att = js.Model.parse(attention_text(4, 0.25))
    cases.append(("attention T=128 d=64 4 heads", att, "attention", {"T": 128, "d": 64, "k": 16}, 4, 0.25,
                  handwritten.attention))
    blk = js.Model.parse(block_text(4, 0.125))
    cases.append(("block T=128 d=256 4 heads m=1024", blk, "block", {"T": 128, "d": 256, "k": 64, "m": 1024}, 4,
                  0.125, handwritten.block))
    names = None
    for case in cases:
        for label, dtype, med in bench(*case, args.calls):
            if names is None:
                names = list(med)
                print(f"{'model':<34} {'dtype':<8}" + "".join(f" {n + ' µs':>12} {'ratio':>6}" for n in names))
            print(f"{label:<34} {dtype:<8}" + "".join(f" {med[n]:>12.0f} {med[n] / med['hand']:>6.2f}" for n in names),
                  flush=True)
    times = [cold("block", 4, 0.125) for _ in range(3)]
    print(f"cold, the 4-head block: js.backprop {statistics.median(t[0] for t in times):.2f} s, "
          f"js.kernel {statistics.median(t[1] for t in times):.2f} s (median of 3 fresh processes)")


if __name__ == "__main__":
    main()
