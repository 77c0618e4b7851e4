#!/usr/bin/env python3
"""Fails when modules of the library import each other in a circle, directly or
through others.

Reads every `use` declaration of src/ (main.rs, the binary, aside): a file is a
module, and so is an inline `mod NAME {` (the test modules); `crate::`,
`super::`, `self::` and a child module's bare name are followed to the
deepest module they name, through the `pub use` re-exports of the module
they reach. A path written out in a signature or a function body is not an
import and is not seen: the code names other modules' items through `use`. A circle is
a strongly connected component of the graph (Tarjan's algorithm); each
import that closes one is printed as file module -> module.

Takes a second or two: it replaced a check that built a large tool first.
`--self-test` shows that it finds a circle planted in a copy of src/.
"""

import re
import shutil
import sys
import tempfile
from pathlib import Path

CRATE = "crate"
USE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.MULTILINE)
INLINE_MOD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{", re.MULTILINE)


def file_module(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "mod"):
        parts.pop()
    return "::".join([CRATE, *parts])


def expand(tree: str) -> list[str]:
    """`a::{b, c::{d, e as f}}` into a::b, a::c::d, a::c::e (aliases and globs dropped)."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))
    brace = tree.find("{")
    if brace < 0:
        return [tree.removesuffix("::*")]
    prefix, inner = tree[:brace], tree[brace + 1 : tree.rindex("}")]
    items, depth, start = [], 0, 0
    for index, char in enumerate(inner):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(inner[start:index])
            start = index + 1
    items.append(inner[start:])
    return [path for item in items if item for path in expand(prefix + item)]


def modules_and_uses(src: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each module's file, and the paths its `use` declarations name (absolute where they
    start with crate, super or self; as written otherwise)."""
    files, uses = {}, {}
    for path in sorted(src.rglob("*.rs")):
        if path == src / "main.rs":
            continue
        module = file_module(src, path)
        text = path.read_text()
        # An inline module runs to the end of the file: only the test modules are written
        # inline, at the bottom.
        sections = [(module, text)]
        inline = INLINE_MOD.search(text)
        if inline:
            sections = [(module, text[: inline.start()]), (f"{module}::{inline.group(1)}", text[inline.end() :])]
        for name, body in sections:
            files[name] = str(path.relative_to(src.parent))
            uses[name] = [absolute(name, used) for tree in USE.findall(body) for used in expand(tree)]
    return files, uses


def absolute(module: str, path: str) -> str:
    """`super::` and `self::` made absolute; `crate::` and bare paths as written."""
    parts = path.split("::")
    if parts[0] not in ("super", "self"):
        return path
    base = module.split("::")
    while parts and parts[0] in ("super", "self"):
        if parts.pop(0) == "super":
            base.pop()
    return "::".join(base + parts)


def target(modules: set[str], module: str, path: str, reexports: dict[str, dict[str, str]], depth: int = 0) -> str | None:
    """The deepest module a used path names, following `pub use` re-exports; None for a path
    outside the crate (a bare path is a child module's, or another crate's)."""
    if not path.startswith(f"{CRATE}::"):
        child = f"{module}::{path.split('::')[0]}"
        if child not in modules:
            return None
        path = f"{module}::{path}"
    parts = path.split("::")
    for end in range(len(parts), 0, -1):
        candidate = "::".join(parts[:end])
        if candidate in modules:
            rest = parts[end:]
            if rest and depth < 8 and rest[0] in reexports.get(candidate, {}):
                return target(modules, candidate, reexports[candidate][rest[0]], reexports, depth + 1) or candidate
            return candidate
    return None


def graph(src: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    files, uses = modules_and_uses(src)
    modules = set(files)
    reexports: dict[str, dict[str, str]] = {}
    for path in sorted(src.rglob("*.rs")):
        if path == src / "main.rs":
            continue
        module = file_module(src, path)
        for tree in re.findall(r"^\s*pub\s+use\s+([^;]+);", path.read_text(), flags=re.MULTILINE):
            for used in expand(tree):
                reexports.setdefault(module, {})[used.split("::")[-1]] = absolute(module, used)
    edges = {module: set() for module in modules}
    for module, paths in uses.items():
        for path in paths:
            reached = target(modules, module, path, reexports)
            if reached and reached != module:
                edges[module].add(reached)
    return files, edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for next_node in sorted(edges.get(node, ())):
            if next_node not in index:
                visit(next_node)
                low[node] = min(low[node], low[next_node])
            elif next_node in on_stack:
                low[node] = min(low[node], index[next_node])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def check(src: Path) -> int:
    files, edges = graph(src)
    if len(files) < 20:
        print(f"module cycles: saw only {len(files)} modules; {src} is not the library", file=sys.stderr)
        return 1
    found = circles(edges)
    if found:
        print("module cycles: these imports close a circle (A uses B, B uses A, directly or through others):", file=sys.stderr)
        for component in found:
            for module in component:
                for used in sorted(edges[module] & set(component)):
                    print(f"  {files[module]} ({module}) -> {used}", file=sys.stderr)
        return 1
    print(f"module cycles: none among {len(files)} modules, {sum(map(len, edges.values()))} imports")
    return 0


def self_test(src: Path) -> int:
    """The check passes on src/ and fails once a leaf module imports the server."""
    if check(src) != 0:
        return 1
    with tempfile.TemporaryDirectory() as directory:
        copy = Path(directory) / "src"
        shutil.copytree(src, copy)
        leaf = copy / "endpoints.rs"
        leaf.write_text("use crate::startup::Application;\n" + leaf.read_text())
        if check(copy) == 0:
            print("module cycles: a planted circle (endpoints -> startup) was not found", file=sys.stderr)
            return 1
    print("module cycles: the planted circle was found")
    return 0


if __name__ == "__main__":
    source = Path(__file__).resolve().parents[1] / "src"
    sys.exit(self_test(source) if "--self-test" in sys.argv else check(source))
