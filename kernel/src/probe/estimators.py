"""Summaries of scikit-learn style estimators (`kind: "estimator"`): objects with a callable
`get_params`. Their parameters, and a hash of what fitting set (attributes ending in `_`); and
their fingerprints (`estimator_fingerprint`: parameters and fitted state in one hash)."""

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


def fitted_hash(value, limit=None):
    """(sha256 or None when unfitted, sampled) over the fitted attributes: names ending in `_`,
    not starting with `_`, that are arrays (sampled over `limit` bytes, else LIMIT), scalars,
    lists or tuples."""
    h, fitted, sampled = hashlib.sha256(), False, False
    np = sys.modules.get("numpy")
    attributes = getattr(value, "__dict__", {})
    for name in sorted(attributes):
        if not name.endswith("_") or name.startswith("_"):
            continue
        item = attributes[name]
        if np is not None and isinstance(item, np.ndarray):
            cut = array_sampled(item, limit)
            form = array_hash(np, item, cut).encode()
        elif type(item) in ATOMS or type(item) in (list, tuple):
            budget = Budget()
            form = canonical(item, budget, 0)
            cut = budget.cut
        else:
            continue
        fitted, sampled = True, sampled or cut
        h.update(name.encode() + b"=" + form + b";")
    return (h.hexdigest() if fitted else None), sampled


def is_estimator(value):
    """scikit-learn style: its class has a callable `get_params` (asked of the class, so no
    instance's __getattr__ runs)."""
    return not isinstance(value, type) and callable(getattr(type(value), "get_params", None))


def estimator_fingerprint(value, limit, depth=0):
    """(sha256, sampled) of an estimator's class, parameters (`get_params(deep=False)` in
    canonical form) and fitted attributes, and those of the estimators among its parameters
    (a Pipeline's steps, an ensemble's base estimator), three levels deep."""
    h = hashlib.sha256(type_name(value).encode())
    params = value.get_params(deep=False)
    budget = Budget()
    h.update(canonical({str(k): v for k, v in params.items()}, budget, 0))
    digest, sampled = fitted_hash(value, limit)
    h.update(b"fitted=" + (digest or "none").encode())
    sampled = sampled or budget.cut
    if depth < 3:
        for key in sorted(params, key=str):
            for inner in nested_estimators(params[key]):
                d, s = estimator_fingerprint(inner, limit, depth + 1)
                h.update(str(key).encode() + b":" + d.encode())
                sampled = sampled or s
    return h.hexdigest(), sampled


def nested_estimators(param):
    """The estimators a parameter holds: itself, or those of a list of estimators or of
    (name, estimator) pairs, at most 100."""
    if is_estimator(param):
        return [param]
    if type(param) not in (list, tuple):
        return []
    found = []
    for item in param[:100]:
        if type(item) is tuple and len(item) >= 2:
            item = item[1]
        if is_estimator(item):
            found.append(item)
    return found


def estimator(value):
    params = value.get_params(deep=False)
    digest, _ = fitted_hash(value)
    return {"kind": "estimator", "class": type_name(value),
            "params": {str(k): param(v) for k, v in sorted(params.items(), key=lambda kv: str(kv[0]))},
            "fitted_sha256": digest}
