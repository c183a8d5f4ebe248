"""The package's shape: the recognition core, the HTTP service, the optional features and the
offline lab, with the app factory above the service and the features; no import cycles, and
each layer importing only the ones below it."""

import ast

import pytest

from conftest import ROOT

PACKAGE = ROOT / "digits"
# The layers each may import (besides itself), as docs/development.md states them: the core
# nothing; the service the core; the features the service and the core; the app factory
# (digits/app.py) all three; the lab the core.
ALLOWED = {
    "core": {"core"},
    "service": {"core", "service"},
    "features": {"core", "service", "features"},
    "app": {"core", "service", "features", "app"},
    "lab": {"core", "lab"},
}
MODULES = {f"{path.parent.name}.{path.stem}": path
           for path in PACKAGE.glob("*/*.py") if path.stem != "__init__"}
MODULES["app"] = PACKAGE / "app.py"


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
    """The package's modules ("layer.name", or "app") that `module` imports."""
    return {name.removeprefix("digits.") for name in imported_names(MODULES[module])
            if name.removeprefix("digits.") in MODULES} - {module}


def test_every_module_sits_in_one_of_the_layers():
    assert {path.name for path in PACKAGE.glob("*.py")} == {"__init__.py", "app.py"}
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


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("core.")))
def test_the_core_speaks_of_no_status_and_no_route(module):
    source = MODULES[module].read_text()
    for http in ("POST /", "GET /", "status", "slug", "WWW-Authenticate"):
        assert http not in source, (module, http)


def test_the_factory_imports_a_feature_by_name_only_when_it_is_on():
    # `keys` is the exception: its command-line group is always there, and it imports no
    # library beyond Flask's own
    assert {name for name in imports_of("app") if name.startswith("features.")} == {
        "features.keys"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(("service.",
                                                                               "features."))))
def test_no_view_or_feature_reads_another_s_state_by_extension_key(module):
    # each reaches what it needs through its owner's accessor (state.reader(),
    # keys.current_key(), ...): only the owner names its own key
    source = MODULES[module].read_text()
    owned = {"service.state": '"digits.state"', "service.forms": '"digits.bodies"',
             "features.keys": '"digits.keys"'}
    for key in ('"digits.state"', '"digits.bodies"', '"digits.keys"', "g.api_key"):
        if owned.get(module) != key and not (module == "features.keys" and key == "g.api_key"):
            assert key not in source, (module, key)


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("lab/*.py")), ids=lambda path: path.stem)
def test_the_lab_sets_and_deletes_no_private_attribute_of_an_estimator(path):
    # what scikit-learn keeps under a leading underscore may change in any release; the lab
    # uses its public API only, so that an upgrade fails loudly or not at all
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not (
                node.attr.startswith("__") or (isinstance(node.value, ast.Name)
                                               and node.value.id in ("self", "cls"))):
            raise AssertionError(f"{path.name}:{node.lineno} .{node.attr}")
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "delattr":
            raise AssertionError(f"{path.name}:{node.lineno} delattr")


def test_no_test_module_imports_another():
    # shared helpers live in conftest.py, so that each test module can be read (and run) alone
    for path in (ROOT / "tests").glob("test_*.py"):
        assert not {name for name in imported_names(path) if name.startswith("test_")}, path.name
