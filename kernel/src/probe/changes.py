"""Change detection: which of the user's globals a cell bound to a different object or deleted,
each bound one with its type and, for a small plain value, the value itself (`describe`).

Objects are told apart by id(): a name rebound to another object is noted, a mutation in place
is not (the summaries of tagged names see those). IPython's own names are never the user's.

The snapshot after each cell does not call id() itself: CPython raises the audit event
`builtins.id` for every call, and with the probe's audit hook installed (files.py) each one
runs that Python hook, which made the snapshot of a namespace of 1,000 names cost about twice
what it does without. `object.__hash__` gives the same identity without an audit event (the
object's address, rotated: one value per live object); id() is called only for the names a
cell rebound, whose notes carry it. Where `object.__hash__` is not that (an interpreter that
hashes objects otherwise), the snapshot uses id().
"""

from .limits import MAX_STR, type_name

_IPYTHON_NAMES = frozenset(
    "In Out _ __ ___ _i _ii _iii _ih _oh _dh exit quit get_ipython __builtins__ __builtin__"
    " __name__ __doc__ __package__ __loader__ __spec__ _exit_code __session__".split()
)
_INF, _NINF = float("inf"), float("-inf")
_NO = object()  # not a scalar


def auto_name(name):
    """IPython's own names, and its output and input caches: _7, _i7, _ii, ..."""
    if name in _IPYTHON_NAMES:
        return True
    rest = name[2:] if name.startswith("_i") else name[1:] if name.startswith("_") else ""
    return rest.isdigit()


def _utf8(text):
    """Whether `text` travels as UTF-8 JSON: not a str holding lone surrogates (a file name
    `os.fsdecode` made of bytes that are not UTF-8), which ipykernel would send as invalid UTF-8."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _scalar(value, depth=0):
    """The value itself when it is small and plain enough to store as JSON, else _NO: the
    subclasses of the plain scalars (numpy.float64, IntEnum, ...) and tuples of at most 8."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value if not isinstance(value, int) or abs(value) < 2**53 else repr(value)
    if isinstance(value, float):
        return value if value == value and value not in (_INF, _NINF) else repr(value)
    if isinstance(value, str):
        return value if len(value) <= MAX_STR and (value.isascii() or _utf8(value)) else _NO
    if isinstance(value, tuple) and depth == 0 and len(value) <= 8:
        items = [_scalar(v, 1) for v in value]
        return _NO if any(i is _NO for i in items) else items
    return _NO


def describe(value):
    """{"type": ..., "value"?: ...}: the type's `module.Qualname` (builtins bare), and the value
    when it is a scalar JSON carries (NaN, infinities and ints past 2**53 as their repr)."""
    kind = type(value)
    # The common plain scalars first, without isinstance chains: a cell binding thousands of
    # numbers pays this per name.
    if kind is float:
        return {"type": "float",
                "value": value if value == value and value != _INF and value != _NINF else repr(value)}
    if kind is int:
        return {"type": "int", "value": value if -2**53 < value < 2**53 else repr(value)}
    if kind is str:
        return {"type": "str", "value": value} if len(value) <= MAX_STR and (
            value.isascii() or _utf8(value)) else {"type": "str"}
    if kind is bool or value is None:
        return {"type": kind.__qualname__, "value": value}
    info = {"type": type_name(value)}
    try:
        scalar = _scalar(value)
    except Exception:  # a broken __eq__ or __len__ must not break the cell
        scalar = _NO
    if scalar is not _NO:
        info["value"] = scalar
    return info


def _identity_without_audit():
    """object.__hash__ when it tells objects apart exactly as id() does (CPython: the address
    rotated by 4 bits, the same bijection for every object, whatever its type's own __hash__),
    else id()."""
    try:
        address = object.__hash__
        bits = 8 * __import__("struct").calcsize("P")
        mask = (1 << bits) - 1

        def as_id(h):
            h &= mask
            return ((h << 4) | (h >> (bits - 4))) & mask

        class _Hashed:
            def __hash__(self):
                return 7

        probes = [[], {}, 1.5, "s", object(), _Hashed(), None, len, 2**70, (1, 2)]
        if all(as_id(address(o)) == id(o) for o in probes):
            return address
    except Exception:
        pass
    return id


_identity = _identity_without_audit()


class Bindings:
    """The user's globals as {name: identity} after the last cell, and what the next cell
    changed (identity: see the module's doc)."""

    def __init__(self, ns, identity=None):
        # How objects are told apart in the snapshot: `_identity` unless told (a test compares
        # it with id()).
        self.identity = identity or _identity
        # Every name seen, and those of them IPython's own (it adds _i<n> for every cell run):
        # each name is classified once, so the snapshot after each cell stays in C loops.
        self.seen = set()
        self.ipython = set()
        self.before, _ = self._snapshot(ns)

    def _snapshot(self, ns):
        """({name: identity} of the user's names, {name: value} of every name) now."""
        ns = dict(ns)  # one atomic copy: another thread may bind names meanwhile
        new = ns.keys() - self.seen
        if new:
            self.seen.update(new)
            self.ipython.update(k for k in new if auto_name(k))
        ipython = self.ipython
        identity = self.identity
        return {k: identity(v) for k, v in ns.items() if k not in ipython}, ns

    def changes(self, ns):
        """([[name, id, describe(value)]] rebound or new, [name] deleted) since the last call."""
        after, values = self._snapshot(ns)
        before = self.before
        self.before = after
        bound = []
        if after != before:  # a cell that bound nothing costs one comparison in C
            get = before.get
            add = bound.append
            for k, i in after.items():
                if get(k) != i:
                    value = values[k]
                    kind = type(value)
                    # describe()'s common cases inline: a cell binding thousands of numbers
                    # pays this per name.
                    if kind is float:
                        add([k, id(value), {"type": "float", "value": value if value == value and
                                            value != _INF and value != _NINF else repr(value)}])
                    elif kind is int:
                        add([k, id(value), {"type": "int",
                                            "value": value if -2**53 < value < 2**53 else repr(value)}])
                    else:
                        add([k, id(value), describe(value)])
        deleted = [] if before.keys() <= after.keys() else [k for k in before if k not in after]
        return bound, deleted
