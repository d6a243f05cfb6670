"""Benchmark: how claims, proofs and kernel builds grow with depth (L-hidden-layer ReLU MLPs with
softmax cross-entropy), each cell a fresh process, CPU and wall time, capped.

    python benchmarks/scaling.py [--depths 1 2 3 4 8 16 32 128] [--cap 120]

Cells: `js.check` of one true claim (∂J/∂W1 = δᵀxᵀ), `js.check` of one false one (its negative),
`js.verify` of every gradient, `js.backprop` + `js.kernel`, and JAX's trace + compile + first
gradient of the same network when JAX is installed. BLAS is pinned to one thread in every child (set
before NumPy is imported there). Prints a Markdown table and the growth per layer; in a terminal, the
cell being timed is shown on stderr (``scaling: 3/40 L=2 verify``).
"""

import argparse
import inspect
import json
import os
import subprocess
import sys
import textwrap

import mlp

from jacobian_sym.base.progress import Progress

MLP = inspect.getsource(mlp)  # the model text builder, run in each fresh process

TIMED = '''
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
{body}
print(json.dumps({{"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "ok": ok}}))
'''

CELLS = {
    "check (true)": '''
import jacobian_sym as js
bp = js.backprop(js.Model.parse(mlp_text({L})))
ok = js.check(bp, wrt="W1", claim="delta_{d}.T @ x.T").ok
''',
    "check (false)": '''
import jacobian_sym as js
bp = js.backprop(js.Model.parse(mlp_text({L})))
v = js.check(bp, wrt="W1", claim="-delta_{d}.T @ x.T")
ok = (not v.ok) and "wrong sign" in v.reason
''',
    "verify": '''
import jacobian_sym as js
ok = js.verify(js.backprop(js.Model.parse(mlp_text({L})))).ok
''',
    "backprop + kernel": '''
import jacobian_sym as js
f = js.kernel(js.backprop(js.Model.parse(mlp_text({L}))))
ok = True
''',
    "JAX first gradient": '''
import jax, jax.numpy as jnp
L, n = {L}, 32
def loss(params, x, y):
    h = x
    for W, b in params[:-1]:
        h = jax.nn.relu(W @ h + b)
    U, c = params[-1]
    return -jnp.sum(y * jax.nn.log_softmax(U @ h + c, axis=0))
params = [(jnp.ones((n, n)) * 0.01, jnp.zeros((n, 1))) for _ in range(L)]
params += [(jnp.ones((10, n)) * 0.01, jnp.zeros((10, 1)))]
x, y = jnp.ones((n, 64)), jnp.zeros((10, 64)).at[0].set(1.0)
g = jax.jit(jax.grad(loss))(params, x, y)
jax.block_until_ready(g)
ok = True
''',
}


def run(cell, L, cap):
    body = textwrap.dedent(CELLS[cell]).format(L=L, d=L + 1)
    code = MLP + TIMED.format(body=textwrap.indent(body, ""))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=cap, env=env)
    except subprocess.TimeoutExpired:
        return None, f"> {cap} s"
    if out.returncode != 0:
        return None, "error: " + (out.stderr.strip().splitlines() or ["?"])[-1][:60]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    shown = f"{result['cpu']:.2f} s ({result['wall']:.2f} wall)" + ("" if result["ok"] else " WRONG")
    return result["cpu"], shown


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3, 4, 8, 16, 32, 128])
    parser.add_argument("--cap", type=float, default=120)
    parser.add_argument("--cells", nargs="+", default=list(CELLS))
    args = parser.parse_args()
    try:
        import jax  # noqa: F401
    except ImportError:
        args.cells = [c for c in args.cells if not c.startswith("JAX")]
    print("| L | " + " | ".join(args.cells) + " |")
    print("|---|" + "---|" * len(args.cells))
    cpu = {c: {} for c in args.cells}
    progress, total = Progress("scaling"), len(args.depths) * len(args.cells)
    for n, L in enumerate(args.depths):
        row = []
        for k, cell in enumerate(args.cells):
            progress(n * len(args.cells) + k, total, f"L={L} {cell}")
            seconds, shown = run(cell, L, args.cap)
            cpu[cell][L] = seconds
            row.append(shown)
        progress.close()  # the table's row starts at the left margin of the terminal
        print(f"| {L} | " + " | ".join(row) + " |", flush=True)
    print()
    for cell, times in cpu.items():
        done = [(L, s) for L, s in times.items() if s is not None]
        if len(done) >= 2:
            (l0, s0), (l1, s1) = done[0], done[-1]
            print(f"{cell}: {(s1 - s0) / (l1 - l0):.3f} s per added layer from L={l0} to L={l1} (CPU)")


if __name__ == "__main__":
    main()
