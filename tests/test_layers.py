"""The layers (issue #14): import-linter's contracts in pyproject.toml ([tool.importlinter]: the layer order, the
pure layers' forbidden I/O libraries, no cycles inside a package), and no first-party import inside a function
body — an import of our own code inside a function is how a cycle or a layer break gets hidden."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("genjin", "demo", "flows", "reports", "adapters", "transforms", "schemas", "policy")


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache", "--no-logo"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"import-linter ([tool.importlinter] in pyproject.toml):\n{proc.stdout}{proc.stderr}"


def in_function_imports(source: str, package: str) -> list[tuple[int, str, str]]:
    """(line, module imported, the statement) of each first-party import inside a function body of a module's `source`;
    relative imports are resolved against `package`, the dotted name of the package the module is in."""
    found: list[tuple[int, str, str]] = []

    def imported(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        if node.level:  # relative: always ours
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            return [".".join([*base, node.module] if node.module else base)]
        return [node.module or ""]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom) and in_function:
                found.extend((child.lineno, name, ast.unparse(child))
                             for name in imported(child) if name.split(".")[0] in PACKAGES)
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(ast.parse(source), False)
    return found


def first_party_in_function_imports() -> list[tuple[str, int, str, str]]:
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO)
            inside = ".".join(rel.parent.parts)  # the package the module is in
            offenders += [(rel.as_posix(), line, name, statement)
                          for line, name, statement in in_function_imports(path.read_text(encoding="utf-8"), inside)]
    return offenders


def test_the_scan_finds_in_function_imports_of_our_own_code_only() -> None:
    source = (
        "import os\nfrom reports import cells\n"
        "def f():\n    import polars\n    from flows.nightly import nightly\n    from . import sibling\n"
        "    def g():\n        import adapters.mail\n"
        "class C:\n    async def m(self):\n        from policy.model import load_policy\n"
    )
    assert in_function_imports(source, "reports") == [
        (5, "flows.nightly", "from flows.nightly import nightly"), (6, "reports", "from . import sibling"),
        (8, "adapters.mail", "import adapters.mail"), (11, "policy.model", "from policy.model import load_policy")]


def test_no_function_imports_our_own_code() -> None:
    offenders = [f"{path}:{line}: {statement}" for path, line, _, statement in first_party_in_function_imports()]
    assert not offenders, (
        "first-party imports inside a function body hide cycles and layer breaks; import at the top of the module "
        "(third-party lazy imports are fine):\n" + "\n".join(offenders))
