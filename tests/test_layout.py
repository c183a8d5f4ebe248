"""The package's shape: four layers (core, service, features, lab), no import cycles, and each
layer importing only the ones below it."""

import ast

import pytest

from conftest import ROOT

PACKAGE = ROOT / "digits"
# The layers each may import (besides itself): the core nothing, the service the core, the
# features the service and the core, the lab the core.
ALLOWED = {
    "core": {"core"},
    "service": {"core", "service", "features"},
    "features": {"core", "service", "features"},
    "lab": {"core", "lab"},
}
MODULES = {f"{path.parent.name}.{path.stem}": path
           for path in PACKAGE.glob("*/*.py") if path.stem != "__init__"}


def imported_names(path):
    """Every dotted name the module at `path` imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def imports_of(module):
    """The package's modules ("layer.name") that `module` imports."""
    return {name.removeprefix("digits.") for name in imported_names(MODULES[module])
            if name.removeprefix("digits.") in MODULES} - {module}


def test_every_module_sits_in_one_of_the_four_layers():
    assert {path.name for path in PACKAGE.glob("*.py")} == {"__init__.py"}
    assert {module.split(".")[0] for module in MODULES} == set(ALLOWED)


def test_no_module_of_the_package_imports_itself_back():
    graph = {module: imports_of(module) for module in MODULES}

    def reaches(start, goal, seen=()):
        return any(next_ == goal or (next_ not in seen and reaches(next_, goal, {*seen, next_}))
                   for next_ in graph[start])

    assert [module for module in graph if reaches(module, module)] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_layer_imports_only_the_layers_below_it(module):
    layer = module.split(".")[0]
    assert {imported.split(".")[0] for imported in imports_of(module)} <= ALLOWED[layer]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(("core.", "lab."))))
def test_the_core_and_the_lab_know_nothing_of_flask(module):
    assert not {name for name in imported_names(MODULES[module])
                if name.split(".")[0] in ("flask", "werkzeug")}


def test_the_service_imports_each_optional_feature_only_when_it_is_on():
    # `keys` is the exception: its command-line group is always there, and it imports no
    # library beyond Flask's own
    for module in MODULES:
        if module.startswith("service."):
            assert {name for name in imports_of(module) if name.startswith("features.")} <= {
                "features.keys"}, module


def test_no_test_module_imports_another():
    # shared helpers live in conftest.py, so that each test module can be read (and run) alone
    for path in (ROOT / "tests").glob("test_*.py"):
        assert not {name for name in imported_names(path) if name.startswith("test_")}, path.name
