"""Claims about gradients: the LaTeX reader of what lecture notes write (``latex``, shared with the
document audit), the claim reader (``syntax``: Python, the notes' LaTeX or the tool's own printed
notation, never eval) and its op spellings (``spelling``), and deciding a claim with its reason and
counterexample (``decide``). The audit of whole documents is the next stage, ``audit/``.

May import: everything up to ``proofs``.
"""
