"""The top-level packages the user's cells imported, with their versions: not the standard
library, not `_private` modules, not what was imported before the probe was installed, and not
what IPython and ipykernel import for themselves while a cell runs (unless the cell imports it)."""

import re
import sys

# Imported lazily by IPython and ipykernel, not by the user's code: the first traceback
# formats with stack_data (and executing, asttokens, pure_eval), the first completion loads
# jedi and parso, the debugger debugpy.
MACHINERY = frozenset(
    "stack_data executing asttokens pure_eval jedi parso debugpy".split()
)


def _stdlib():
    names = getattr(sys, "stdlib_module_names", None)
    return frozenset(names) if names else frozenset(sys.builtin_module_names)


_DISTRIBUTIONS = None  # top-level module -> distributions, read when first needed


def version(name, module):
    """A package's version: its __version__, else its distribution's; None when neither is known."""
    global _DISTRIBUTIONS
    try:
        found = getattr(module, "__version__", None)
        if isinstance(found, str):
            return found
    except Exception:
        pass
    try:
        from importlib import metadata

        return metadata.version(name)
    except Exception:
        pass
    try:
        from importlib import metadata

        if _DISTRIBUTIONS is None:  # one scan of the installed distributions per kernel
            _DISTRIBUTIONS = metadata.packages_distributions()
        for dist in _DISTRIBUTIONS.get(name, []):
            return metadata.version(dist)
    except Exception:
        pass
    return None


class Packages:
    """Which top-level modules were seen, so each new one is noted once."""

    def __init__(self):
        self.modules = len(sys.modules)
        self.top_level = {name.partition(".")[0] for name in list(sys.modules)}
        self.stdlib = _stdlib()

    def changed(self):
        """Whether modules were imported since the last look (a cheap test, every cell)."""
        return len(sys.modules) != self.modules

    def new(self, source=""):
        """{name: version} of top-level, non-stdlib packages imported since the last look, by
        the cell whose code is `source`."""
        self.modules = len(sys.modules)
        packages = {}
        for name in list(sys.modules):
            top = name.partition(".")[0]
            if top in self.top_level:
                continue
            self.top_level.add(top)
            if top.startswith("_") or top in self.stdlib:
                continue
            if top in MACHINERY and not imports(source, top):
                continue
            found = version(top, sys.modules.get(top))
            if found is not None:
                packages[top] = found
        return packages


def imports(source, top):
    """Whether the code `source` has an import statement naming the top-level module `top`."""
    pattern = r"^\s*(?:from\s+%s\b|import\s+(?:[\w.]+\s*,\s*)*%s\b)" % (top, top)
    return re.search(pattern, source, re.MULTILINE) is not None
