"""Claims about gradients: the claim reader (``syntax``: Python or the notes' LaTeX, never eval) and its
op spellings (``spelling``), deciding a claim with its reason and counterexample (``decide``), and the
notes' errata (``errata``).

May import: everything up to ``proofs``.
"""
