"""Bounds every summary keeps, and the small conversions summaries share.

A summary does bounded work whatever the size of the object: over `PROV_VALUE_LIMIT` bytes
(default 256 MiB, suffixes k/M/G) it hashes and measures a sample; a fingerprint, taken of
every binding, samples over `PROV_FINGERPRINT_LIMIT` (default 16 MiB), and a cell's
fingerprints together get `PROV_FINGERPRINT_BUDGET` milliseconds (default 100). The rest are
fixed sizes of what a summary keeps.
"""

import os

MAX_STR = 200  # characters of a str stored as a scalar value
REPR = 200  # characters of a repr kept in a summary
ERROR = 300  # characters of a failed summary's message
COLUMNS = 200  # DataFrame columns listed
SAMPLE = 65536  # elements a sampled array's statistics look at
CHUNKS = 64  # evenly spaced chunks of raw bytes a sampled hash reads...
CHUNK = 65536  # ...of this many bytes each
ITEMS = 100000  # items a collection's canonical form visits at most
DEPTH = 20  # nesting a collection's canonical form follows


def parse_size(text, default):
    """PROV_VALUE_LIMIT as bytes: a number with an optional k/M/G suffix (powers of 1024)."""
    try:
        text = text.strip()
        factor = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:].lower(), 1)
        if factor != 1:
            text = text[:-1]
        size = int(float(text) * factor)
        return size if size > 0 else default
    except Exception:
        return default


LIMIT = parse_size(os.environ.get("PROV_VALUE_LIMIT", ""), 256 << 20)
# Fingerprints of every binding (fingerprints.py): an object over FINGERPRINT_LIMIT bytes is
# hashed from a sample, and a cell's fingerprints stop once they took FINGERPRINT_BUDGET seconds.
FINGERPRINT_LIMIT = parse_size(os.environ.get("PROV_FINGERPRINT_LIMIT", ""), 16 << 20)


def parse_seconds(text, default):
    """PROV_FINGERPRINT_BUDGET in milliseconds, as seconds (0 turns fingerprints off)."""
    try:
        ms = float(text)
        return ms / 1000 if ms >= 0 else default
    except Exception:
        return default


FINGERPRINT_BUDGET = parse_seconds(os.environ.get("PROV_FINGERPRINT_BUDGET", ""), 0.1)


def number(x):
    """A number as JSON can carry it: NaN and infinities as the strings "nan", "inf", "-inf";
    an int too large for 64 bits as its repr; None when it is no number."""
    try:
        if hasattr(x, "item"):
            x = x.item()
        if isinstance(x, bool) or isinstance(x, int):
            return x if abs(x) < 2**63 else repr(x)
        x = float(x)
    except Exception:
        return None
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return x


def bounded_repr(value):
    """The repr cut to REPR characters, and whether it was cut."""
    text = repr(value)
    return text[:REPR], len(text) > REPR


def type_name(value):
    """`module.Qualname` of the value's type; builtins without their module."""
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
