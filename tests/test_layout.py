"""The package's shape: no import cycles, and the recognition core knows nothing of Flask."""

import ast

from conftest import ROOT

PACKAGE = ROOT / "digits"
CORE = {"decoding", "preprocess", "segmentation", "reading", "model", "errors"}


def imported_names(module):
    """Every dotted name `module` imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def imports_of(module):
    """The digits modules `module` imports."""
    return {name.split(".")[1] for name in imported_names(module)
            if name.startswith("digits.") and (PACKAGE / f"{name.split('.')[1]}.py").exists()
            } - {module}


def test_no_module_of_the_package_imports_itself_back():
    graph = {path.stem: imports_of(path.stem) for path in PACKAGE.glob("*.py")}

    def reaches(start, goal, seen=()):
        return any(next_ == goal or (next_ not in seen and reaches(next_, goal, {*seen, next_}))
                   for next_ in graph[start])

    assert [module for module in graph if reaches(module, module)] == []


def test_the_recognition_core_imports_neither_flask_nor_the_service():
    for module in CORE:
        assert not {name for name in imported_names(module)
                    if name.split(".")[0] in ("flask", "werkzeug")}, module
        assert imports_of(module) <= CORE, module
