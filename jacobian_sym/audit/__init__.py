"""The audit of whole documents (``js.audit``), a pipeline: ``document`` (the math, rows, chains,
sections and lines of Markdown or LaTeX, code skipped) → ``context``/``reading`` (what the symbols are,
section by section: shapes, definitions, one-hot labels, unification of unstated sizes; the context
file) → ``values`` (a side's value at concrete sizes: SymPy's own derivatives of explicit values, the
independent truth) → ``verdicts`` (a link's verdict and reason) → ``corrections`` (what the engine
derives instead) → ``driver`` (the run) → ``report`` (text, Markdown, LaTeX); ``errata`` (the notes'
audit, with the claim checker's ``NOTES_CLAIMS`` as its cross-check).

It reads notation with the claims' LaTeX reader (``claims.latex``, one tree for claims and audits).

May import: everything up to ``claims``.
"""
