"""Content hashes: an array's elements, and a canonical form of any nested value.

Equal values hash alike whatever their memory layout (an array in C or Fortran order, a dict
built in another order). Every hash does bounded work: a large array is read in evenly spaced
chunks, a large container up to a budget of items, and the caller is told it was sampled.
"""

import hashlib
import itertools
import sys

from .limits import CHUNK, CHUNKS, DEPTH, ITEMS, LIMIT, SAMPLE, type_name

ATOMS = (int, float, complex, bool, str, bytes, type(None))


class Budget:
    """How many more items a canonical form may visit, and whether some were left out."""

    def __init__(self, items=ITEMS):
        self.left = items
        self.cut = False

    def take(self, iterable, length):
        """The first items of `iterable` the budget allows (all of them when it allows)."""
        if length > self.left:
            self.cut = True
            return itertools.islice(iterable, max(self.left, 0))
        return iterable


def canonical(value, budget, depth):
    """Bytes that stand for a value: equal for equal containers (dict keys sorted, sets sorted),
    items as their canonical form or repr. `budget` bounds the items visited, so a huge
    container costs a bounded time (what is left out sets `budget.cut`)."""
    budget.left -= 1
    if budget.left < 0 or depth > DEPTH:
        budget.cut = True
        return b"\x00..."
    kind = type(value)
    if kind in ATOMS:
        return kind.__name__.encode() + b":" + repr(value).encode()
    if kind in (list, tuple):
        items = budget.take(value, len(value))
        return (kind.__name__.encode() + b"%d[" % len(value)
                + b",".join(canonical(v, budget, depth + 1) for v in items) + b"]")
    if kind is dict:
        items = sorted(canonical(k, budget, depth + 1) + b"=" + canonical(v, budget, depth + 1)
                       for k, v in budget.take(value.items(), len(value)))
        return b"dict%d{" % len(value) + b",".join(items) + b"}"
    if kind in (set, frozenset):
        items = sorted(canonical(v, budget, depth + 1) for v in budget.take(value, len(value)))
        return kind.__name__.encode() + b"%d{" % len(value) + b",".join(items) + b"}"
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return b"ndarray:" + array_hash(np, value, array_sampled(value)).encode()
    try:
        text = repr(value)
    except Exception:
        text = "<unrepresentable>"
    return type_name(value).encode() + b":" + text[:1000].encode("utf-8", "replace")


def array_sampled(a, limit=None):
    """Whether an array is summarised from a sample: over the size limit (`limit` bytes, else
    LIMIT), or holding more objects than a sample (each is hashed one by one through its
    canonical form)."""
    return a.nbytes > (LIMIT if limit is None else limit) or a.dtype.kind == "O" and a.size > SAMPLE


def flat_sample(np, a):
    """At most SAMPLE evenly spaced elements of `a` (first and last included), without copying it."""
    if a.size <= SAMPLE:
        return a.reshape(-1)
    return a.flat[np.linspace(0, a.size - 1, SAMPLE).astype("int64")]


def array_hash(np, a, sampled):
    """sha256 of the array's elements in C order (equal arrays hash alike whatever their layout);
    sampled: shape, dtype and evenly spaced chunks of its bytes, a bounded read."""
    h = hashlib.sha256()
    h.update(repr((a.shape, a.dtype.str)).encode())
    if a.dtype.kind == "O":
        budget = Budget()
        for item in flat_sample(np, a).tolist() if sampled else a.reshape(-1).tolist():
            h.update(canonical(item, budget, 0))
        return h.hexdigest()
    if not sampled:
        h.update(np.ascontiguousarray(a).reshape(-1).view("uint8"))
        return h.hexdigest()
    if a.flags.c_contiguous:
        raw = a.reshape(-1).view("uint8")
        n = len(raw)
        step = max((n - CHUNK) // (CHUNKS - 1), 1)
        for i in range(CHUNKS):
            start = min(i * step, max(n - CHUNK, 0))
            h.update(raw[start:start + CHUNK])
    else:
        h.update(np.ascontiguousarray(flat_sample(np, a)).tobytes())
    return h.hexdigest()
