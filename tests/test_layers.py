"""The package's imports flow one way: read with ``ast``, every import of a jacobian_sym module must go
to the same stage or a lower one (docs/ARCHITECTURE.md), the module graph has no cycle, and no module
imports inside a function to dodge one (only the CLI defers imports, for its start-up time)."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "jacobian_sym"

#: the stages, lowest first; a module may import its own stage and the ones before it
STAGES = [
    ("errors", "base"),
    ("ops",),
    ("graph",),
    ("render",),
    ("engine",),
    ("models",),
    ("notes",),
    ("kernels",),
    ("proofs",),
    ("claims",),
    ("audit",),
    ("documents", "cli", "__init__", "__main__"),
]
#: modules that may import inside a function: the CLI loads the engine only for the verb it runs
DEFERRED_IMPORTS = {"jacobian_sym.cli"}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def _stage(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    for rank, names in enumerate(STAGES):
        if top in names:
            return rank
    raise AssertionError(f"{module} belongs to no stage: add its package to STAGES and docs/ARCHITECTURE.md")


def _resolve(module: str, node: ast.ImportFrom | ast.Import, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("jacobian_sym")]
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("jacobian_sym"):
        return []
    if node.module is None or target in MODULES and MODULES[target][1]:  # from pkg import submodule
        return [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]
    return [target]


def _modules():
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        out[_module_name(path)] = (path, path.name == "__init__.py")
    return out


MODULES = _modules()


def _imports():
    """(module, imported module, inside a function) for every import of a jacobian_sym module."""
    found = []
    for module, (path, is_package) in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(module, node, is_package):
                    found.append((module, target, id(node) not in top_level, node.lineno))
    return found


IMPORTS = _imports()


def test_every_module_has_a_stage():
    for module in MODULES:
        _stage(module)


@pytest.mark.parametrize("module,target,deferred,line", IMPORTS, ids=[f"{m}->{t}" for m, t, _, _ in IMPORTS])
def test_imports_go_to_the_same_stage_or_lower(module, target, deferred, line):
    assert _stage(target) <= _stage(module), (
        f"{module} (line {line}) imports {target}, a later stage: move the shared piece down, or the "
        f"importer up")


def test_no_import_inside_a_function():
    deferred = [f"{m}:{line} imports {t}" for m, t, inside, line in IMPORTS if inside and m not in DEFERRED_IMPORTS]
    assert not deferred, "imports inside functions (a sign of a dodged cycle): " + "; ".join(deferred)


def test_no_import_cycle():
    graph: dict[str, set] = {m: set() for m in MODULES}
    for module, target, _, _ in IMPORTS:
        if target != module and not MODULES.get(module, (None, False))[1]:
            graph[module].add(target)
    # a package's __init__ re-exports its modules; the cycle test is over plain modules
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m):
        state[m] = 1
        path.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(t):] + [t]))
            if state.get(t) is None:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if state.get(m) is None:
            visit(m)


def test_the_checker_sees_an_upward_import():
    """The test above can fail: an engine module importing the kernels is reported."""
    fake = ast.parse("from jacobian_sym.kernels.codegen import kernel\n").body[0]
    (target,) = _resolve("jacobian_sym.engine.chain", fake, False)
    assert _stage(target) > _stage("jacobian_sym.engine.chain")
