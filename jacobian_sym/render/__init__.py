"""Every format a person reads: the printers in the notes' notation (``pages``: LaTeX, Markdown,
plain text of derivations, backprops, the notes and the errata), the op table's notation
(``notation``), and PDF compilation (``pdf``). Results are read by their attributes (title, steps,
closed forms), so the engine's result objects can display themselves through this package.

May import: ``errors``, ``base``, ``ops``, ``graph``.
"""
