"""Foundations every stage may use: symbolic sizes and index symbols (``sizes``), safe names and
escaped text for user input (``safe_text``), code-text helpers for the printers (``codetext``) and
atomic file writes (``files``).

May import: ``jacobian_sym.errors`` only.
"""
