"""Summaries of numpy arrays (`kind: "ndarray"`), and the statistics pandas columns and
tensors share with them."""

from .hashing import array_hash, array_sampled, flat_sample
from .limits import number


def array_stats(np, a, out):
    """min, max, mean and NaN count of a numeric or bool numpy array into `out` (the caller
    bounds its size); nothing for other dtypes (complex, strings, objects) or no elements."""
    kind = a.dtype.kind
    if kind not in "biuf" or a.size == 0:
        return
    if kind == "f":
        nans = int(np.count_nonzero(np.isnan(a)))
        out["nan_count"] = nans
        if nans == a.size:
            out["min"] = out["max"] = out["mean"] = "nan"
            return
        out["min"], out["max"] = number(np.nanmin(a)), number(np.nanmax(a))
        out["mean"] = number(np.nanmean(a))
    else:
        out["nan_count"] = 0
        out["min"], out["max"] = number(a.min()), number(a.max())
        out["mean"] = number(a.mean(dtype="float64"))


def ndarray(np, a):
    sampled = array_sampled(a)
    out = {"kind": "ndarray", "shape": list(a.shape), "dtype": str(a.dtype), "nbytes": int(a.nbytes)}
    array_stats(np, flat_sample(np, a) if sampled else a, out)
    out["sha256"] = array_hash(np, a, sampled)
    out["sampled"] = sampled
    return out
