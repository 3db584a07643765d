"""Summaries of pandas DataFrames (`kind: "dataframe"`) and Series (`kind: "series"`), and
their fingerprints (`frame_fingerprint`).

pandas imports numpy, so numpy is in sys.modules whenever a DataFrame exists.
"""

import hashlib
import sys

from .arrays import array_stats
from .hashing import Budget, canonical
from .limits import COLUMNS, LIMIT, SAMPLE, number


def column_stats(pd, np, column, out):
    """min, max, mean and NaN count of a numeric, non-complex column (or Series) into `out`."""
    if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_complex_dtype(column.dtype):
        return
    values = column.to_numpy()
    if values.dtype.kind in "biuf":
        array_stats(np, values, out)
        return
    # Nullable extension dtypes (Int64, Float64, boolean) come out as objects: ask pandas.
    out["nan_count"] = int(column.isna().sum())
    if out["nan_count"] < len(column):
        out["min"], out["max"], out["mean"] = number(column.min()), number(column.max()), number(column.mean())


def frame_hash(pd, frame, columns):
    """sha256 of a DataFrame or Series, and whether it covers only part of the rows."""
    h = hashlib.sha256()
    h.update(repr(columns).encode())
    try:
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        return h.hexdigest(), False
    except TypeError:  # unhashable cells (lists, dicts): their canonical form instead
        budget = Budget()
        rows = frame.itertuples(index=True, name=None) if hasattr(frame, "itertuples") else frame.items()
        for row in budget.take(rows, len(frame)):
            h.update(canonical(row, budget, 0))
        return h.hexdigest(), budget.cut


def sample_rows(np, frame):
    """At most SAMPLE evenly spaced rows (first and last included)."""
    rows = len(frame)
    if rows <= SAMPLE:
        return frame
    return frame.iloc[np.linspace(0, rows - 1, SAMPLE).astype("int64")]


def size_estimate(memory, object_cells):
    """Bytes of a pandas object without measuring each Python object in it (deep=True would
    visit every string): object cells are counted as 64 bytes each on top of their pointers."""
    return int(memory) + 56 * object_cells


def over_limit(pd, frame, limit):
    """Whether a DataFrame or Series is over `limit` bytes (by size_estimate)."""
    if isinstance(frame, pd.DataFrame):
        objects = sum(1 for t in frame.dtypes if getattr(t, "kind", "O") == "O") * len(frame)
        return size_estimate(frame.memory_usage(index=True, deep=False).sum(), objects) > limit
    objects = len(frame) if getattr(frame.dtype, "kind", "O") == "O" else 0
    return size_estimate(frame.memory_usage(index=True, deep=False), objects) > limit


def signature(pd, frame):
    """What a frame's hash covers besides its cells: column names and dtypes (a Series: its
    name and dtype)."""
    if isinstance(frame, pd.DataFrame):
        return [(repr(c), str(t)) for c, t in zip(frame.columns, frame.dtypes)]
    return [repr(frame.name), str(frame.dtype)]


def frame_fingerprint(pd, frame, limit):
    """(sha256, sampled) of a DataFrame or Series for its fingerprint: over `limit` bytes, of
    evenly spaced rows, with the shape in the hash."""
    np = sys.modules["numpy"]
    sampled = over_limit(pd, frame, limit)
    part = sample_rows(np, frame) if sampled else frame
    digest, cut = frame_hash(pd, part, [signature(pd, frame), list(frame.shape)])
    return digest, sampled or cut


def dataframe(pd, df):
    np = sys.modules["numpy"]
    sampled = over_limit(pd, df, LIMIT)
    part = sample_rows(np, df) if sampled else df
    columns = []
    for i in range(min(df.shape[1], COLUMNS)):
        name = df.columns[i]
        column = {"name": name if isinstance(name, str) else repr(name), "dtype": str(df.dtypes.iloc[i])}
        column_stats(pd, np, part.iloc[:, i], column)
        columns.append(column)
    digest, cut = frame_hash(pd, part, signature(pd, df))
    return {"kind": "dataframe", "shape": list(df.shape), "columns": columns,
            "sha256": digest, "sampled": sampled or cut}


def series(pd, s):
    np = sys.modules["numpy"]
    sampled = over_limit(pd, s, LIMIT)
    part = sample_rows(np, s) if sampled else s
    name = s.name
    out = {"kind": "series", "shape": [len(s)],
           "name": name if name is None or isinstance(name, str) else repr(name),
           "dtype": str(s.dtype)}
    column_stats(pd, np, part, out)
    out["sha256"], cut = frame_hash(pd, part, signature(pd, s))
    out["sampled"] = sampled or cut
    return out
