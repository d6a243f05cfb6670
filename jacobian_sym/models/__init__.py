"""Models: the model-file format (``model``: TOML with a safe line parser) and the backprop of a whole
model with its error signals δ₁, δ₂, … (``backprop``).

May import: everything up to ``engine``.
"""
