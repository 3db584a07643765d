"""What a tagged value's row holds (`tagged_info`): its type, and its scalar value or a
summary object whose `kind` says which library family it is (the format: tests/golden/probe/
README.md). A summary never imports a module the user has not imported: numpy, pandas, torch
and tensorflow are recognised only when already in sys.modules.
"""

import hashlib
import sys
import warnings

from .arrays import ndarray
from .changes import describe
from .estimators import estimator
from .frames import dataframe, series
from .hashing import Budget, canonical
from .limits import ERROR, bounded_repr
from .tensors import tensor


def collection(value):
    budget = Budget()
    form = canonical(value, budget, 0)
    return {"kind": "collection", "type": type(value).__name__, "length": len(value),
            "sha256": hashlib.sha256(form).hexdigest(), "sampled": budget.cut}


def summary_of(value):
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return ndarray(np, value)
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(value, pd.DataFrame):
            return dataframe(pd, value)
        if isinstance(value, pd.Series):
            return series(pd, value)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return tensor("torch", value)
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(value, getattr(tf, "Tensor", ())):
        return tensor("tensorflow", value)
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return collection(value)
    if not isinstance(value, type) and callable(getattr(value, "get_params", None)):
        return estimator(value)
    text, truncated = bounded_repr(value)
    return {"kind": "object", "repr": text, "truncated": truncated}


def summary(value):
    """The summary of a tagged value, or {"kind": "failed"} with why: never an exception, never
    a warning printed in the user's cell."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np = sys.modules.get("numpy")
            if np is not None:
                with np.errstate(all="ignore"):
                    return summary_of(value)
            return summary_of(value)
    except BaseException as e:  # noqa: BLE001 - a broken object must not break the cell
        if isinstance(e, KeyboardInterrupt):
            raise
        try:
            message = f"{type(e).__name__}: {e}"
        except Exception:
            message = type(e).__name__
        return {"kind": "failed", "error": message[:ERROR]}


def tagged_info(value):
    """What a tagged value's row holds: the type, a scalar's value, or a summary."""
    info = describe(value)
    if "value" not in info:
        info["summary"] = summary(value)
    return info
