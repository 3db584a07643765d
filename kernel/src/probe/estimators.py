"""Summaries of scikit-learn style estimators (`kind: "estimator"`): objects with a callable
`get_params`. Their parameters, and a hash of what fitting set (attributes ending in `_`)."""

import hashlib
import sys

from .hashing import ATOMS, Budget, array_hash, array_sampled, canonical
from .limits import REPR, bounded_repr, number, type_name


def param(value):
    """A parameter as JSON: a scalar as itself (a str cut to REPR characters, a huge int as its
    repr, NaN and infinities as strings), anything else as a bounded repr."""
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, str) and len(value) > REPR:
            return value[:REPR]
        return value if not isinstance(value, int) or abs(value) < 2**63 else repr(value)
    if isinstance(value, float):
        return number(value)
    return bounded_repr(value)[0]


def estimator(value):
    params = value.get_params(deep=False)
    h, fitted = hashlib.sha256(), False
    np = sys.modules.get("numpy")
    attributes = getattr(value, "__dict__", {})
    for name in sorted(attributes):
        if not name.endswith("_") or name.startswith("_"):
            continue
        item = attributes[name]
        if np is not None and isinstance(item, np.ndarray):
            form = array_hash(np, item, array_sampled(item)).encode()
        elif type(item) in ATOMS or type(item) in (list, tuple):
            form = canonical(item, Budget(), 0)
        else:
            continue
        fitted = True
        h.update(name.encode() + b"=" + form + b";")
    return {"kind": "estimator", "class": type_name(value),
            "params": {str(k): param(v) for k, v in sorted(params.items(), key=lambda kv: str(kv[0]))},
            "fitted_sha256": h.hexdigest() if fitted else None}
