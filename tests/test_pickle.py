"""Results survive pickle (multiprocessing, joblib caches): derivations, backprops, Hessians, verdicts —
also into a fresh process, where derivative classes (tanh″) are derived again on lookup."""

import pickle
import subprocess
import sys

import jacobian_sym as js


def test_a_backprop_with_its_kernel_built_round_trips():
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    js.kernel(bp)  # a loaded module in its cache is not pickled
    again = pickle.loads(pickle.dumps(bp))
    assert again.gradients == bp.gradients and str(again.deltas["delta_2"]) == "(δ₁ U) ∘ ReLU′(z)ᵀ"
    assert js.verify(again).ok and js.kernel(again).name == "one_layer"


def test_a_verdict_and_an_identity_round_trip():
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    v = js.check(bp, "W", "x @ delta2")
    assert pickle.loads(pickle.dumps(v)).summary() == v.summary()
    d = js.derive("2.5")
    assert repr(pickle.loads(pickle.dumps(d))) == repr(d)


def test_a_hessian_loads_in_a_fresh_process(tmp_path):
    W, x = js.matrix("W", "m", "n"), js.vector("x", "n")
    d = js.hessian(js.sum(js.tanh(W @ x)), x)
    js.kernel(d)
    path = tmp_path / "h.pkl"
    path.write_bytes(pickle.dumps(d))
    code = (f"import pickle, jacobian_sym as js; d = pickle.load(open({str(path)!r}, 'rb')); "
            "print(d.closed_form, js.verify(d).ok)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip() == "Wᵀ diag(tanh″(W x)) W True", proc.stderr


def test_a_kernel_round_trips_into_a_fresh_process(tmp_path):
    import numpy as np

    f = js.kernel(js.backprop(js.Model.from_toml("derivations/one_layer.toml")))
    rng = np.random.default_rng(0)
    arrays = {"x": rng.normal(size=(4, 3)), "y": np.eye(5)[:, [0, 2, 4]], "W": rng.normal(size=(6, 4)),
              "b1": rng.normal(size=(6, 1)), "U": rng.normal(size=(5, 6)), "b2": rng.normal(size=(5, 1))}
    want = f(**arrays)
    (tmp_path / "k.pkl").write_bytes(pickle.dumps(f))
    np.savez(tmp_path / "a.npz", **arrays)
    code = (f"import pickle, numpy as np; f = pickle.load(open({str(tmp_path / 'k.pkl')!r}, 'rb')); "
            f"out = f(**dict(np.load({str(tmp_path / 'a.npz')!r}))); "
            f"np.savez({str(tmp_path / 'out.npz')!r}, **out)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = np.load(tmp_path / "out.npz")
    assert set(got) == set(want) and all(np.allclose(got[k], want[k], rtol=1e-12, atol=0) for k in want)
    H = js.kernel(js.hessian(js.sum(js.tanh(js.matrix("W", "m", "n") @ js.vector("x", "n"))), js.vector("x", "n")))
    again = pickle.loads(pickle.dumps(H))
    W, x = rng.normal(size=(3, 2)), rng.normal(size=(2, 1))
    assert np.allclose(again(W=W, x=x), H(W=W, x=x), rtol=1e-12, atol=0)
