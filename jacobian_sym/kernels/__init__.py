"""The NumPy backend: the op table's lowerings (``lowering``), printers for closed forms
(``numpy_printer``) and kernels (``kernel_printer``), the kernel source (``generate``), its static
audit (``source_audit``), loading and the numeric self-check (``codegen``, ``self_check``), the
runtime helpers copied into every kernel (``runtime``), graph evaluation at concrete sizes
(``numeric``) and benchmarking (``timing``). A new backend is a sibling of ``lowering`` and its printer.

May import: everything up to ``notes``.
"""
