"""The Chebyshev coefficients of the kernels' double-precision erf (``kernels/runtime.py: _erf``),
computed in 60-digit arithmetic with mpmath (a SymPy dependency):

    erf(x)  = x · P(t),            t = x²/2 − 1        for |x| ≤ 2       (P = Σ p_k T_k(t))
    erfc(x) = exp(−x²) · Q(t),     t = (x − 4)/2       for 2 < x < 6     (Q = Σ q_k T_k(t))
    erf(x)  = sign(x)              for |x| ≥ 6 (erfc(6) = 2·10⁻¹⁷ is below half an ulp of 1)

    python tools/erf_coefficients.py      # prints the two tuples pasted into runtime.py

Degrees are chosen so that the first dropped coefficient is below 1e-17 of the function's size.
"""

import mpmath as mp

mp.mp.dps = 60


def chebyshev(f, n):
    """c_0 … c_{n−1} of f on [−1, 1] (c_0 halved, so that f = Σ c_k T_k)."""
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    values = [f(x) for x in nodes]
    coeffs = []
    for j in range(n):
        c = 2 * mp.fsum(v * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / n) for k, v in enumerate(values)) / n
        coeffs.append(c / 2 if j == 0 else c)
    return coeffs


def truncated(coeffs, scale):
    last = max(k for k, c in enumerate(coeffs) if abs(c) > mp.mpf("1e-18") * scale)
    return coeffs[: last + 1]


def main():
    def p(t):  # erf(x)/x at x = √(2(t + 1))
        x = mp.sqrt(2 * (t + 1))
        return mp.erf(x) / x if x != 0 else 2 / mp.sqrt(mp.pi)

    def q(t):  # erfc(x) e^{x²} at x = 2t + 4
        x = 2 * t + 4
        return mp.erfc(x) * mp.exp(x * x)

    P = truncated(chebyshev(p, 60), 1)
    Q = truncated(chebyshev(q, 60), mp.mpf("0.09"))
    print("_ERF_P = (" + ", ".join(repr(float(c)) for c in P) + ")")
    print("_ERFC_Q = (" + ", ".join(repr(float(c)) for c in Q) + ")")


if __name__ == "__main__":
    main()
