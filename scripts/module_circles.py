#!/usr/bin/env python3
"""Fails when a crate's modules import each other in a circle.

A module is one `.rs` file under a crate's `src/` (`foo/mod.rs` and `foo.rs` are `foo`; `lib.rs`
and `main.rs` are the crate root). Module A depends on module B when A names an item B defines:
through `crate::…`, `super::…`, `self::…`, or a child module's name (`child::item`). Re-exports
(`pub use`) are a crate's façade, not a dependency, and `#[cfg(test)] mod tests` blocks are left
out. A path into a module whose next name B does not define itself (a macro exported at the root,
something B only re-exports) is not counted either.

It reads the source as text, so it is a guard, not a compiler: it can miss a dependency spelled
in an unusual way, but every circle it prints is real. Usage:

    python3 scripts/module_circles.py [CRATE_DIR ...]   (default: every workspace member)
"""

import os
import re
import sys
import tomllib

ITEM = r"(?:fn|struct|enum|const|static|type|trait|macro_rules!|mod)\s+{}\b"


def modules(src):
    """Module path (a tuple of names) -> its file, for every .rs file under src."""
    found = {}
    for folder, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            parts = tuple(os.path.relpath(path, src)[:-3].split(os.sep))
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            found[parts] = path
    return found


def code_of(path):
    """The file's code as it counts: no tests module, no re-exports, no line comments."""
    text = open(path, encoding="utf-8").read()
    text = re.split(r"#\[cfg\(test\)\]\s*mod tests\b", text)[0]
    text = re.sub(r"(?m)^\s*pub(\([\w:]+\))? use [^;]*;", "", text)
    return re.sub(r"(?m)//.*$", "", text)


def resolve(mods, texts, here, path):
    """The module a `crate::`/`super::`/`self::` path names an item of, or None."""
    parts = path.split("::")
    if parts[0] == "crate":
        base, parts = (), parts[1:]
    elif parts[0] == "self":
        base, parts = here, parts[1:]
    else:
        base = here
        while parts and parts[0] == "super":
            base, parts = base[:-1], parts[1:]
    target, rest = base, parts
    for i in range(len(parts)):
        candidate = base + tuple(parts[: i + 1])
        if candidate not in mods:
            break
        target, rest = candidate, parts[i + 1 :]
    if rest and not re.search(ITEM.format(re.escape(rest[0])), texts[target]):
        return None
    return target if target in mods else None


def edges(mods):
    texts = {m: code_of(p) for m, p in mods.items()}
    graph = {m: set() for m in mods}
    for here, text in texts.items():
        for match in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+)", text):
            graph[here].add(resolve(mods, texts, here, match.group(1)))
        for match in re.finditer(r"\buse ((?:crate|super|self)(?:::\w+)*)::\{([^;]*)\};", text, re.S):
            for name in re.findall(r"\b(\w+)\b", match.group(2)):
                graph[here].add(resolve(mods, texts, here, match.group(1) + "::" + name))
        for match in re.finditer(r"(?<![:\w])(\w+)::", text):
            child = here + (match.group(1),)
            if child in mods:
                graph[here].add(child)
        graph[here].discard(None)
        graph[here].discard(here)
    return graph


def circles(graph):
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    crates = argv or tomllib.load(open(os.path.join(root, "Cargo.toml"), "rb"))["workspace"]["members"]
    bad = 0
    for crate in crates:
        src = os.path.join(root, crate, "src")
        if not os.path.isdir(src):
            continue
        for component in circles(edges(modules(src))):
            bad += 1
            names = sorted("::".join(m) or "<crate root>" for m in component)
            print(f"{crate}: modules in a circle: {', '.join(names)}")
    if bad:
        print("fix: move what they share into a module both use (see ARCHITECTURE.md)")
        return 1
    print(f"no module circles in {len(crates)} crates")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
