# SPDX-License-Identifier: Apache-2.0
"""Tests for scripts/check-layering.py, run as a subprocess on fake dump-package JSON and fake source trees.

Run from the repository root: python3 -m pytest -q integration/layering
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check-layering.py"


def by_name(name: str) -> dict:
    return {"byName": [name, None]}


def product(name: str, package: str) -> dict:
    return {"product": [name, package, None, None]}


def target(name: str, deps: list[dict] = (), kind: str = "regular", **extra) -> dict:
    """One entry of dump-package's `targets`, in the shape swift 6.3 prints."""
    return {"name": name, "type": kind, "dependencies": list(deps), "exclude": [], "resources": [],
            "settings": [], "packageAccess": True, **extra}


def clean_targets() -> list[dict]:
    return [
        target("CSQLite", kind="system"),
        target("Core", [product("Logging", "swift-log")]),
        target("Store", [by_name("Core"), {"target": ["CSQLite", None]}]),
        target("my-tool", [by_name("Store"), by_name("Core")], kind="executable"),
        target("StoreTests", [by_name("Store"), by_name("Core")], kind="test"),
    ]


CLEAN_SOURCES = {
    "Sources/Core/Core.swift": "public import Logging\nimport Foundation\npublic struct Reading {}\n",
    "Sources/Store/Store.swift": (
        "#if canImport(Glibc)\nimport Glibc\n#endif\ninternal import CSQLite\npublic import Core\n"
        "import struct Core.Reading\n"
    ),
    "Sources/my-tool/main.swift": "@preconcurrency import Store\nimport Core\nimport ArgumentParser\n",
    "Tests/StoreTests/StoreTests.swift": "import Testing\n@testable import Store\nimport Core\n",
}

CLEAN_LAYERS = "# lowest first\nCSQLite Core\nStore   # the database\n\nmy-tool\n"


def run(tmp_path: Path, targets: list[dict], sources: dict[str, str], layers: str) -> subprocess.CompletedProcess:
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"name": "fake", "targets": targets}))
    layers_file = tmp_path / "layers.txt"
    layers_file.write_text(layers)
    package = tmp_path / "pkg"
    for relative, text in sources.items():
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text(text)
    package.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--dump", str(dump), "--layers", str(layers_file), "--package-dir", str(package)],
        capture_output=True, text=True,
    )


def assert_fails(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in result.stdout, result.stdout


def test_clean_package_passes(tmp_path):
    result = run(tmp_path, clean_targets(), CLEAN_SOURCES, CLEAN_LAYERS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "layering: 5 targets, 12 imports checked, OK"


def test_upward_dependency_fails(tmp_path):
    targets = clean_targets()
    targets[1]["dependencies"].append(by_name("Store"))  # Core (layer 1) -> Store (layer 2)
    result = run(tmp_path, targets, CLEAN_SOURCES, CLEAN_LAYERS)
    assert_fails(result, "target Core (layer 1) depends on Store (layer 2): a lower target must not depend on a "
                         "higher one. Fix: move the shared type down, or pass it in from above.")


def test_same_layer_dependency_fails(tmp_path):
    targets = clean_targets()
    targets[1]["dependencies"].append(by_name("CSQLite"))  # Core and CSQLite share layer 1
    result = run(tmp_path, targets, CLEAN_SOURCES, CLEAN_LAYERS)
    assert_fails(result, "target Core depends on CSQLite, both in layer 1")


def test_product_dependencies_are_ignored(tmp_path):
    targets = clean_targets()
    targets[1]["dependencies"].append(product("Store", "other-package"))  # same name as a target, other package
    assert run(tmp_path, targets, CLEAN_SOURCES, CLEAN_LAYERS).returncode == 0


def test_undeclared_import_of_sibling_target_fails(tmp_path):
    sources = dict(CLEAN_SOURCES)
    sources["Sources/my-tool/Helpers.swift"] = "// SPDX\n\npublic import CSQLite\n"
    result = run(tmp_path, clean_targets(), sources, CLEAN_LAYERS)
    assert_fails(result, "Sources/my-tool/Helpers.swift:3: target my-tool imports CSQLite",
                 "declare it in Package.swift or remove the import")


def test_undeclared_testable_import_in_test_target_fails(tmp_path):
    sources = dict(CLEAN_SOURCES)
    sources["Tests/StoreTests/ToolTests.swift"] = "import Testing\n@testable import my_tool\n"
    result = run(tmp_path, clean_targets(), sources, CLEAN_LAYERS)
    assert_fails(result, "Tests/StoreTests/ToolTests.swift:2: target StoreTests imports my_tool")


def test_target_missing_from_layers_fails(tmp_path):
    result = run(tmp_path, clean_targets(), CLEAN_SOURCES, CLEAN_LAYERS.replace("my-tool", ""))
    assert_fails(result, "target my-tool (executable) is not in any layer")


def test_unknown_name_in_layers_fails(tmp_path):
    result = run(tmp_path, clean_targets(), CLEAN_SOURCES, CLEAN_LAYERS + "Ghost\n")
    assert_fails(result, "layers.txt:6: Ghost is not a target of the package")


def test_imports_in_comments_and_strings_are_ignored(tmp_path):
    sources = dict(CLEAN_SOURCES)
    sources["Sources/Core/Notes.swift"] = (
        "// import Store\n"
        "/* import Store\n   import CSQLite */\n"
        "/// Callers write `import Store`.\n"
        'let help = """\nimport Store\n"""\n'
        'let s = "import Store"\n'
    )
    result = run(tmp_path, clean_targets(), sources, CLEAN_LAYERS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_non_project_imports_are_ignored(tmp_path):
    sources = dict(CLEAN_SOURCES)
    sources["Sources/Core/System.swift"] = (
        "#if canImport(Glibc)\nimport Glibc\n#elseif canImport(Darwin)\nimport Darwin\n#endif\n"
        "public import Foundation\n@_exported import Logging\nimport SystemPackage\n"
    )
    result = run(tmp_path, clean_targets(), sources, CLEAN_LAYERS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_excluded_files_and_custom_paths(tmp_path):
    targets = clean_targets()
    targets[1].update(path="src/core", exclude=["Old"])
    sources = {k: v for k, v in CLEAN_SOURCES.items() if not k.startswith("Sources/Core/")}
    sources["src/core/Core.swift"] = "import Foundation\n"
    sources["src/core/Old/Legacy.swift"] = "import Store\n"  # excluded: not compiled, not checked
    result = run(tmp_path, targets, sources, CLEAN_LAYERS)
    assert result.returncode == 0, result.stdout + result.stderr
    sources["src/core/New.swift"] = "import Store\n"
    assert_fails(run(tmp_path, targets, sources, CLEAN_LAYERS), "src/core/New.swift:1: target Core imports Store")


def test_missing_layers_file_is_an_error_not_a_verdict(tmp_path):
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"targets": clean_targets()}))
    result = subprocess.run([sys.executable, str(SCRIPT), "--dump", str(dump), "--layers", str(tmp_path / "none.txt")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "no such file" in result.stderr
