"""The notes, as data on top of the engine: their identities (what is differentiated by what, never
the answer), ``derive("2.5")``, the statements they make (``NOTES_CLAIMS``, checked by ``claims``),
and their §3 network (``one_layer.toml``, shipped with the package).

May import: everything up to ``models``.
"""
