"""The expression graph: ``Node`` and the user-facing constructors (``expr``: vector, matrix, @, relu,
…, shapes checked on construction), and the graph's nodes as element-indexed matrix symbols
(``indexed``: ``Graph``, explicit values at concrete sizes).

May import: ``errors``, ``base``, ``ops``.
"""
