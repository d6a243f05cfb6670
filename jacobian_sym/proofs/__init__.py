"""Proofs of closed forms: explicit values at concrete sizes (``explicit``), exact zero tests
(``exact``), the truth at a random rational point by reverse accumulation (``pointwise``), the three
proofs of a derivation (``verify``) and of a whole model (``model_proofs``), reported as ``Report`` /
``Check`` (``report``).

May import: everything up to ``kernels``.
"""
