#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the package's target layering against scripts/layers.txt.

Rule 1: a target may depend only on targets in strictly lower layers (product dependencies are ignored).
Rule 2: every `import` of another target of this package must be a declared dependency of the importing target.
Test targets are exempt from rule 1 (and need not be in layers.txt) but not from rule 2.

Usage: scripts/check-layering.py [--package-dir DIR] [--layers FILE] [--dump FILE]
Exit status: 0 clean, 1 violations, 2 the check could not run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

# Comments and string literals, blanked out before looking for imports (line numbers are kept).
NOISE = re.compile(r'//[^\n]*|/\*.*?\*/|"""(?:\\.|.)*?"""|"(?:\\.|[^"\\\n])*"', re.S)
# `import X`, `@testable import X`, `public import X`, `@_spi(S) @preconcurrency internal import X`, `import struct X.Y`.
IMPORT = re.compile(
    r"^[ \t]*(?:@\w+(?:\([^)\n]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?"
    r"import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?(\w+)",
    re.M,
)


def module_name(target: str) -> str:
    """The module a target builds (SwiftPM's c99name): `clemap-edge` -> `clemap_edge`."""
    name = re.sub(r"\W", "_", target)
    return "_" + name if name[:1].isdigit() else name


def fail(message: str) -> None:
    """The check could not run: exit 2, not 1, so that this is never mistaken for a layering verdict."""
    print(f"layering: {message}", file=sys.stderr)
    sys.exit(2)


def load_dump(args: argparse.Namespace) -> dict:
    if args.dump:
        return json.loads(args.dump.read_text())
    try:
        run = subprocess.run(["swift", "package", "dump-package"], cwd=args.package_dir,
                             capture_output=True, text=True)
    except FileNotFoundError:
        fail("`swift` is not on PATH (needed for `swift package dump-package`; or pass --dump FILE)")
    if run.returncode != 0:
        fail(f"`swift package dump-package` failed in {args.package_dir}:\n{run.stderr}")
    return json.loads(run.stdout)


def read_layers(path: Path) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """Returns target -> layer (1 = lowest), target -> line number in the file, and problems found."""
    layer_of, line_of, problems = {}, {}, []
    layer = 0
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        names = line.split("#", 1)[0].split()
        if not names:
            continue
        layer += 1
        for name in names:
            if name in layer_of:
                problems.append(f"{path.name}:{number}: {name} is listed twice (first on line {line_of[name]}).")
                continue
            layer_of[name], line_of[name] = layer, number
    return layer_of, line_of, problems


def target_deps(target: dict, names: set[str]) -> list[str]:
    """The target's declared dependencies that are targets of this package (by name or `.target`)."""
    deps = []
    for dep in target.get("dependencies", []):
        kind, value = next(iter(dep.items()))
        if kind in ("byName", "target") and value[0] in names:
            deps.append(value[0])
    return deps


def swift_files(root: Path, target: dict) -> list[Path]:
    kind = "Tests" if target["type"] == "test" else "Sources"
    folder = root / (target.get("path") or f"{kind}/{target['name']}")
    excluded = [folder / e for e in target.get("exclude", [])]
    return sorted(f for f in folder.rglob("*.swift")
                  if not any(f == e or e in f.parents for e in excluded))


def imports_in(path: Path) -> list[tuple[int, str]]:
    """(line, module) for each import statement in a Swift file."""
    text = NOISE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), path.read_text(errors="replace"))
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in IMPORT.finditer(text)]


def main() -> int:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", type=Path, default=repo, help="the package folder (default: %(default)s)")
    parser.add_argument("--layers", type=Path, help="the layer order (default: scripts/layers.txt beside this script)")
    parser.add_argument("--dump", type=Path, help="a saved `swift package dump-package` JSON, instead of running swift")
    args = parser.parse_args()
    layers_file = args.layers or Path(__file__).resolve().parent / "layers.txt"
    args.package_dir = args.package_dir.resolve()
    for path in (args.dump, layers_file):
        if path is not None and not path.is_file():
            fail(f"{path}: no such file")

    targets = load_dump(args)["targets"]
    by_name = {t["name"]: t for t in targets}
    names = set(by_name)
    layer_of, line_of, problems = read_layers(layers_file)
    ln = layers_file.name

    # layers.txt and Package.swift must name the same non-test targets.
    for name in (n for n in layer_of if n not in names):
        problems.append(f"{ln}:{line_of[name]}: {name} is not a target of the package. "
                        "Fix: add the target to Package.swift, or remove it from layers.txt.")
    for name in layer_of:
        if name in names and by_name[name]["type"] == "test":
            problems.append(f"{ln}:{line_of[name]}: {name} is a test target; test targets are exempt from "
                            "layering. Fix: remove it from layers.txt.")
    for t in targets:
        if t["type"] != "test" and t["name"] not in layer_of:
            problems.append(f"{ln}: target {t['name']} ({t['type']}) is not in any layer. "
                            "Fix: add it to the line of its layer in layers.txt.")

    # Rule 1: dependencies point strictly down.
    for t in targets:
        me = t["name"]
        if t["type"] == "test" or me not in layer_of:
            continue
        for dep in target_deps(t, names):
            if dep not in layer_of:
                continue  # already reported as missing from layers.txt
            if layer_of[dep] == layer_of[me]:
                problems.append(f"Package.swift: target {me} depends on {dep}, both in layer {layer_of[me]}: "
                                "targets of one layer must not depend on each other. "
                                "Fix: move one of them to a lower layer, or pass the value in from above.")
            elif layer_of[dep] > layer_of[me]:
                problems.append(f"Package.swift: target {me} (layer {layer_of[me]}) depends on {dep} "
                                f"(layer {layer_of[dep]}): a lower target must not depend on a higher one. "
                                "Fix: move the shared type down, or pass it in from above.")

    # Rule 2: imports of project modules must be declared dependencies.
    modules = {module_name(n): n for n in names}
    checked = 0
    for t in targets:
        declared = set(target_deps(t, names))
        for file in swift_files(args.package_dir, t):
            for line, module in imports_in(file):
                checked += 1
                dep = modules.get(module)
                if dep is not None and dep != t["name"] and dep not in declared:
                    where = file.relative_to(args.package_dir)
                    problems.append(f"{where}:{line}: target {t['name']} imports {module}, which is not among its "
                                    f"declared dependencies. Fix: declare it in Package.swift or remove the import.")

    if problems:
        print("\n".join(problems))
        print(f"layering: {len(targets)} targets, {checked} imports checked, {len(problems)} violation(s)")
        return 1
    print(f"layering: {len(targets)} targets, {checked} imports checked, OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
