"""The import rules of docs/architecture.md: modules -> frame -> apply files -> client / pure planning files ->
constants and errors. A pure file does no file or network I/O and does not sleep; only the frame builds a client."""

import ast
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = "ansible_collections.ocp.registry_access.plugins.module_utils"
UTILS = os.path.join(REPO, "plugins", "module_utils")
MODULES = os.path.join(REPO, "plugins", "modules")
# Files with I/O by design: the client, the frame, the poller, the apply files, the one file a module reads.
IO_FILES = {"_cluster", "_module", "_poll", "_config_file"}
BOTTOM = {"_constants", "_errors"}
# Python modules a pure file must not use: files, processes, network, clocks and sleeping.
IMPURE = {"time", "socket", "ssl", "subprocess", "threading", "concurrent", "urllib3", "requests", "http", "shutil",
          "tempfile", "glob", "pathlib"}
# Not there yet (issue #16 in progress); an entry that no longer applies is ignored, a new violation fails.
KNOWN = set()


def names(directory):
    return sorted(f[:-3] for f in os.listdir(directory) if f.endswith(".py") and f != "__init__.py")


def pure_files():
    return [n for n in names(UTILS) if n not in IO_FILES | BOTTOM and not n.endswith("_apply")]


def parse(directory, name):
    with open(os.path.join(directory, name + ".py")) as f:
        return ast.parse(f.read())


def collection_imports(tree):
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found |= {a.name for a in node.names}
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module[len(PACKAGE) + 1:])
    return found


def impure_uses(tree):
    """Python modules imported that do I/O, os functions other than os.urandom, and calls of open()."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names if a.name.split(".")[0] in IMPURE}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in IMPURE | {"os"}:
            found.add(node.module)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr != "urandom":
                found.add("os." + node.attr)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            found.add("open()")
    return found


def violations(name, imported, allowed):
    return sorted((name, i) for i in imported - allowed if (name, i) not in KNOWN)


@pytest.mark.parametrize("name", pure_files())
def test_a_pure_file_imports_no_client_and_does_no_io(name):
    tree = parse(UTILS, name)
    forbidden = collection_imports(tree) & ({"_cluster", "_module", "_poll", "_config_file"}
                                            | {n for n in names(UTILS) if n.endswith("_apply")})
    assert violations(name, forbidden, set()) == []
    assert sorted(impure_uses(tree)) == []


@pytest.mark.parametrize("name", sorted(BOTTOM | {"_poll"}))
def test_the_bottom_imports_nothing_of_the_collection(name):
    assert sorted(collection_imports(parse(UTILS, name))) == []


def test_the_client_imports_only_constants_and_errors():
    assert violations("_cluster", collection_imports(parse(UTILS, "_cluster")), BOTTOM) == []


@pytest.mark.parametrize("name", names(MODULES) + [n for n in names(UTILS) if n.endswith("_apply")])
def test_only_the_frame_builds_a_client(name):
    directory = MODULES if name in names(MODULES) else UTILS
    assert violations(name, collection_imports(parse(directory, name)) & {"_cluster"}, set()) == []


def test_a_violation_is_found():
    tree = ast.parse("import time\nfrom %s._cluster import Client\nopen('x')\nimport os\nos.path.exists('y')\n" % PACKAGE)
    assert collection_imports(tree) == {"_cluster"}
    assert impure_uses(tree) == {"time", "open()", "os.path"}
