"""Content fingerprints of every binding a cell made (`add_fingerprints`), not only of tagged
values: numpy arrays, pandas DataFrames and Series, torch and TensorFlow tensors, and
scikit-learn style estimators (parameters and fitted state). A fingerprint is
`{"sha256": str, "sampled": bool}` in the binding's info, so the diff of two trials can tell
an array that unseeded randomness changed from one that is the same, where otherwise only
its type would be known.

Bounded twice: an object over PROV_FINGERPRINT_LIMIT bytes is hashed from an evenly spaced
sample (`sampled: true`), and a cell's fingerprints stop once they took PROV_FINGERPRINT_BUDGET
milliseconds (a cell binding thousands of arrays): the bindings left get none, and the diff
judges them by their dependencies as before. Scalars already carry their value; other types
get nothing. A value changed in place (`model.fit(X)`) keeps its binding: the names a cell
mentions and did not rebind are fingerprinted too (`mentioned_fingerprints`, the note's
`fingerprints`), with what is left of the budget. Like the summaries, a library is recognised only when the user's code imported
it: the probe never imports one.
"""

import re
import sys
import time
import warnings

from .estimators import estimator_fingerprint, is_estimator
from .frames import frame_fingerprint
from .hashing import array_hash, array_sampled
from .limits import FINGERPRINT_BUDGET, FINGERPRINT_LIMIT, type_name
from .tensors import tensor_fingerprint


def fingerprint(value, np, pd, torch, tf, limit):
    """(sha256, sampled) of a value of a known kind, or None."""
    if np is not None and isinstance(value, np.ndarray):
        sampled = array_sampled(value, limit)
        return array_hash(np, value, sampled), sampled
    if pd is not None and isinstance(value, (pd.DataFrame, pd.Series)):
        return frame_fingerprint(pd, value, limit)
    if torch is not None and isinstance(value, torch.Tensor):
        return tensor_fingerprint("torch", value, limit)
    if tf is not None and isinstance(value, getattr(tf, "Tensor", ())):
        return tensor_fingerprint("tensorflow", value, limit)
    if is_estimator(value):
        return estimator_fingerprint(value, limit)
    return None


def add_fingerprints(bound, ns, budget=None, limit=None):
    """Adds `"fingerprint"` to the info of each `[name, id, info]` in `bound` whose value
    (`ns[name]`) has one, in order, until `budget` seconds (FINGERPRINT_BUDGET) are spent.
    A value whose fingerprint raises gets none; nothing is printed in the user's cell.
    Returns the seconds left of the budget."""
    budget = FINGERPRINT_BUDGET if budget is None else budget
    limit = FINGERPRINT_LIMIT if limit is None else limit
    modules = sys.modules
    kinds = (modules.get("numpy"), modules.get("pandas"), modules.get("torch"),
             modules.get("tensorflow"))
    start = time.perf_counter()
    if not bound or budget <= 0:
        return budget
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, _, info in bound:
            # Scalars carry their value; a str, a function or a module has no fingerprint kind.
            if "value" in info or info.get("type") in _PLAIN:
                continue
            if time.perf_counter() - start > budget:
                return 0
            _fingerprint_into(info, ns[name], kinds, limit)
    return budget - (time.perf_counter() - start)


def _fingerprint_into(info, value, kinds, limit):
    try:
        found = fingerprint(value, *kinds, limit)
    except Exception:
        return
    if found is not None:
        info["fingerprint"] = {"sha256": found[0], "sampled": bool(found[1])}


_WORD = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def mentioned_fingerprints(source, ns, rebound, budget, limit=None):
    """{name: {"type", "fingerprint"}} for the arrays, frames, tensors and estimators the cell's
    `source` names (as a whole word, not after a dot) that it did not rebind: a method such
    as `model.fit(X)` changes an object in place, which the bindings do not see. Within
    `budget` seconds; none when no library of those kinds is imported."""
    limit = FINGERPRINT_LIMIT if limit is None else limit
    modules = sys.modules
    kinds = (modules.get("numpy"), modules.get("pandas"), modules.get("torch"),
             modules.get("tensorflow"))
    if budget <= 0 or not source or kinds == (None, None, None, None):
        return {}
    start = time.perf_counter()
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(set(_WORD.findall(source)) - rebound):
            value = ns.get(name, _ABSENT)
            if value is _ABSENT or type(value).__name__ in _PLAIN:
                continue
            if time.perf_counter() - start > budget:
                break
            info = {"type": type_name(value)}
            _fingerprint_into(info, value, kinds, limit)
            if "fingerprint" in info:
                found[name] = info
    return found


_ABSENT = object()


# Types that are never fingerprinted, checked before any isinstance.
_PLAIN = frozenset(("str", "function", "module", "type", "list", "dict", "tuple", "set",
                    "builtin_function_or_method", "NoneType", "int", "float", "bool"))
