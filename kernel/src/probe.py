"""prov's runtime probe, installed silently in the child kernel at start-up.

After every cell (IPython's post_run_cell event, which fires for failed cells too) that changed
any global it notes which names were bound to a different object or deleted, with each object's id() and type, and a
scalar's value. The proxy collects these notes through the user_expressions of the next
execute_request whose code succeeds, keyed by the request they belong to, and strips them from the
reply before any client sees it. It lives in its own module, so the user's namespace is untouched.
"""

import sys

_IPYTHON_NAMES = frozenset(
    "In Out _ __ ___ _i _ii _iii _ih _oh _dh exit quit get_ipython __builtins__ __builtin__"
    " __name__ __doc__ __package__ __loader__ __spec__ _exit_code __session__".split()
)
_SCALARS = (int, float, bool, complex, type(None))
_MAX_STR = 200


def _auto_name(name):
    """IPython's output and input caches: _7, _i7, _ii, ..."""
    if name in _IPYTHON_NAMES:
        return True
    rest = name[2:] if name.startswith("_i") else name[1:] if name.startswith("_") else ""
    return rest.isdigit()


def _scalar(value, depth=0):
    """The value itself when it is small and plain enough to store as JSON, else _NO."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value if not isinstance(value, int) or abs(value) < 2**53 else repr(value)
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
    if isinstance(value, str):
        return value if len(value) <= _MAX_STR else _NO
    if isinstance(value, tuple) and depth == 0 and len(value) <= 8:
        items = [_scalar(v, 1) for v in value]
        return _NO if any(i is _NO for i in items) else items
    return _NO


_NO = object()


def _describe(value):
    kind = type(value)
    info = {"type": f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins"
            else kind.__qualname__}
    try:
        scalar = _scalar(value)
    except Exception:  # a broken __eq__ or __len__ must not break the cell
        scalar = _NO
    if scalar is not _NO:
        info["value"] = scalar
    return info


class _Notes:
    """What the proxy gets: {request msg_id: {"bound": [[name, id, info]], "deleted": [...]}}."""

    def __init__(self, notes):
        self.notes = notes

    def _repr_json_(self):
        return self.notes

    def __repr__(self):
        return f"<prov probe notes for {len(self.notes)} execution(s)>"


class _Nothing:
    """Collected when there are no notes. IPython lets an object with _ipython_display_ show
    itself and skips every formatter; this one shows nothing, so the user expression costs
    almost nothing for a cell that bound no global."""

    def _ipython_display_(self):
        pass

    def __repr__(self):
        return "<no prov probe notes>"


_NOTHING = _Nothing()


class Probe:
    def __init__(self, shell):
        self.shell = shell
        # IPython adds _i<n> for every cell run: remember which names are its own, so the
        # snapshot after each cell does not re-classify thousands of them.
        self.auto = {}
        self.before = self._snapshot()
        self.pending = {}
        shell.events.register("post_run_cell", self.post_run_cell)

    def _snapshot(self):
        auto = self.auto
        names = {}
        for k, v in list(self.shell.user_ns.items()):
            skip = auto.get(k)
            if skip is None:
                skip = auto[k] = _auto_name(k)
            if not skip:
                names[k] = id(v)
        return names

    def _request_id(self):
        kernel = getattr(self.shell, "kernel", None)
        try:
            parent = kernel.get_parent("shell")
        except TypeError:
            parent = kernel.get_parent()
        except Exception:
            return None
        return (parent or {}).get("header", {}).get("msg_id")

    def post_run_cell(self, result):
        try:
            ns = self.shell.user_ns
            after = self._snapshot()
            bound = [[k, i, _describe(ns[k])] for k, i in after.items() if self.before.get(k) != i]
            deleted = [k for k in self.before if k not in after]
            self.before = after
            msg_id = self._request_id()
            if msg_id and (bound or deleted):
                self.pending[msg_id] = {"bound": bound, "deleted": deleted}
        except Exception:  # the probe must never disturb the user's work
            pass

    def collect(self):
        """The notes not yet collected; an object IPython need not format when there are none."""
        if not self.pending:
            return _NOTHING
        notes, self.pending = self.pending, {}
        return _Notes(notes)


def install(shell):
    module = sys.modules[__name__]
    old = getattr(module, "probe", None)
    if old is not None:
        try:
            old.shell.events.unregister("post_run_cell", old.post_run_cell)
        except ValueError:
            pass
    module.probe = Probe(shell)


def collect():
    return module_probe().collect()


def module_probe():
    return sys.modules[__name__].probe
