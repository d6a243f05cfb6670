"""The derivation engine: the reverse sweep as index contractions (``chain``), the rewrite rules
(``rules``, a list applied to a fixed point) and the facts they may assume (``facts``, a table by op),
the closed-form recogniser (``closed_form``: terms read as ``factors``, combined by the table of
``patterns``), inlining of unnamed nodes (``inline``), the layout convention (``layout``, the one place
that decides transposes), and the entry points ``gradient`` / ``jacobian`` with their ``Derivation``
result (``derive``).

May import: ``errors``, ``base``, ``ops``, ``graph``, ``render``.
"""
