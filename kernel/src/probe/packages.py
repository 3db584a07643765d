"""The top-level packages the user's cells imported, with their versions: not the standard
library, not `_private` modules, not what was imported before the probe was installed."""

import sys


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

    def new(self):
        """{name: version} of top-level, non-stdlib packages imported since the last look."""
        self.modules = len(sys.modules)
        packages = {}
        for name in list(sys.modules):
            top = name.partition(".")[0]
            if top in self.top_level:
                continue
            self.top_level.add(top)
            if top.startswith("_") or top in self.stdlib:
                continue
            found = version(top, sys.modules.get(top))
            if found is not None:
                packages[top] = found
        return packages
