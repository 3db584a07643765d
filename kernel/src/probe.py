"""prov's runtime probe, installed silently in the child kernel at start-up.

After every cell (IPython's post_run_cell event, which fires for failed cells too) that changed
any global it notes which names were bound to a different object or deleted, with each object's id() and type, and a
scalar's value. The proxy collects these notes through the user_expressions of the next
execute_request whose code succeeds, keyed by the request they belong to, and strips them from the
reply before any client sees it. It lives in its own module, so the user's namespace is untouched.

The collecting expression also tells the probe which names are tagged (`collect(('a', 'b'))`):
a tagged name gets a summary of its value (`_summary`) when it is tagged, and after every cell
that rebinds it or mentions it and changed it. Summaries never import a module the user has not
imported, do bounded work whatever the size of the object (over `PROV_VALUE_LIMIT`, default
256 MiB, they hash and measure a sample), and a summary that raises is noted as failed.
The probe also notes the top-level packages the user's cells imported, with their versions.
"""

import hashlib
import itertools
import os
import re
import sys
import warnings

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


_INF, _NINF = float("inf"), float("-inf")


def _describe(value):
    kind = type(value)
    # The common plain scalars first, without isinstance chains: a cell binding thousands of
    # numbers pays this per name.
    if kind is float:
        return {"type": "float",
                "value": value if value == value and value != _INF and value != _NINF else repr(value)}
    if kind is int:
        return {"type": "int", "value": value if -2**53 < value < 2**53 else repr(value)}
    if kind is str:
        return {"type": "str", "value": value} if len(value) <= _MAX_STR else {"type": "str"}
    if kind is bool or value is None:
        return {"type": kind.__qualname__, "value": value}
    info = {"type": f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins"
            else kind.__qualname__}
    try:
        scalar = _scalar(value)
    except Exception:  # a broken __eq__ or __len__ must not break the cell
        scalar = _NO
    if scalar is not _NO:
        info["value"] = scalar
    return info


# ---------------------------------------------------------------------------------------------
# Summaries of tagged values. The note's format is the contract of captured_values.summary_json
# (see the SCHEMA section of the provstore crate docs): change both together.

_REPR = 200  # characters of a repr kept in a summary
_ERROR = 300  # characters of a failed summary's message
_COLUMNS = 200  # DataFrame columns listed
_SAMPLE = 65536  # elements a sampled array's statistics look at
_CHUNKS = 64  # evenly spaced chunks of raw bytes a sampled hash reads...
_CHUNK = 65536  # ...of this many bytes each
_ITEMS = 100000  # items a collection's canonical form visits at most
_DEPTH = 20  # nesting a collection's canonical form follows


def _parse_size(text, default):
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


_LIMIT = _parse_size(os.environ.get("PROV_VALUE_LIMIT", ""), 256 << 20)


def _num(x):
    """A number as JSON can carry it: NaN and infinities as the strings "nan", "inf", "-inf"."""
    try:
        if isinstance(x, bool):
            return x
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


def _bounded_repr(value):
    text = repr(value)
    return text[:_REPR], len(text) > _REPR


def _type_name(value):
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _array_stats(np, a, out):
    """min, max, mean and NaN count of a numeric or bool numpy array (the caller bounds its size)."""
    kind = a.dtype.kind
    if kind not in "biuf" or a.size == 0:
        return
    if kind == "f":
        nans = int(np.count_nonzero(np.isnan(a)))
        out["nan_count"] = nans
        if nans == a.size:
            out["min"] = out["max"] = out["mean"] = "nan"
            return
        out["min"], out["max"] = _num(np.nanmin(a)), _num(np.nanmax(a))
        out["mean"] = _num(np.nanmean(a))
    else:
        out["nan_count"] = 0
        out["min"], out["max"] = _num(a.min()), _num(a.max())
        out["mean"] = _num(a.mean(dtype="float64"))


def _flat_sample(np, a):
    """At most _SAMPLE evenly spaced elements of `a` (first and last included), without copying it."""
    if a.size <= _SAMPLE:
        return a.reshape(-1)
    return a.flat[np.linspace(0, a.size - 1, _SAMPLE).astype("int64")]


def _array_hash(np, a, sampled):
    """sha256 of the array's elements in C order (equal arrays hash alike whatever their layout);
    sampled: shape, dtype and evenly spaced chunks of its bytes, a bounded read."""
    h = hashlib.sha256()
    h.update(repr((a.shape, a.dtype.str)).encode())
    if a.dtype.kind == "O":
        budget = _Budget()
        for item in _flat_sample(np, a).tolist() if sampled else a.reshape(-1).tolist():
            h.update(_canonical(item, budget, 0))
        return h.hexdigest()
    if not sampled:
        h.update(np.ascontiguousarray(a).reshape(-1).view("uint8"))
        return h.hexdigest()
    if a.flags.c_contiguous:
        raw = a.reshape(-1).view("uint8")
        n = len(raw)
        step = max((n - _CHUNK) // (_CHUNKS - 1), 1)
        for i in range(_CHUNKS):
            start = min(i * step, max(n - _CHUNK, 0))
            h.update(raw[start:start + _CHUNK])
    else:
        h.update(np.ascontiguousarray(_flat_sample(np, a)).tobytes())
    return h.hexdigest()


def _ndarray(np, a, kind="ndarray"):
    # Objects in an array are hashed one by one through their canonical form: bound their count.
    sampled = a.nbytes > _LIMIT or a.dtype.kind == "O" and a.size > _SAMPLE
    out = {"kind": kind, "shape": list(a.shape), "dtype": str(a.dtype), "nbytes": int(a.nbytes)}
    _array_stats(np, _flat_sample(np, a) if sampled else a, out)
    out["sha256"] = _array_hash(np, a, sampled)
    out["sampled"] = sampled
    return out


def _column_stats(pd, column, out):
    if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_complex_dtype(column.dtype):
        return
    values = column.to_numpy()
    np = sys.modules.get("numpy")
    if np is not None and getattr(values, "dtype", None) is not None and values.dtype.kind in "biuf":
        _array_stats(np, values, out)
        return
    out["nan_count"] = int(column.isna().sum())
    if out["nan_count"] < len(column):
        out["min"], out["max"], out["mean"] = _num(column.min()), _num(column.max()), _num(column.mean())


def _frame_hash(pd, frame, columns):
    """sha256 of a DataFrame or Series, and whether it covers only part of the rows."""
    h = hashlib.sha256()
    h.update(repr(columns).encode())
    try:
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        return h.hexdigest(), False
    except TypeError:  # unhashable cells (lists, dicts): their canonical form instead
        budget = _Budget()
        rows = frame.itertuples(index=True, name=None) if hasattr(frame, "itertuples") else frame.items()
        for row in budget.take(rows, len(frame)):
            h.update(_canonical(row, budget, 0))
        return h.hexdigest(), budget.cut


def _sample_rows(frame, np):
    rows = len(frame)
    if rows <= _SAMPLE or np is None:
        return frame.iloc[:_SAMPLE]
    return frame.iloc[np.linspace(0, rows - 1, _SAMPLE).astype("int64")]


def _size_estimate(memory, object_cells):
    """Bytes of a pandas object without measuring each Python object in it (deep=True would
    visit every string): object cells are counted as 64 bytes each on top of their pointers."""
    return int(memory) + 56 * object_cells


def _dataframe(pd, df):
    np = sys.modules.get("numpy")
    objects = sum(1 for t in df.dtypes if getattr(t, "kind", "O") == "O") * len(df)
    sampled = _size_estimate(df.memory_usage(index=True, deep=False).sum(), objects) > _LIMIT
    part = _sample_rows(df, np) if sampled else df
    columns = []
    for i in range(min(df.shape[1], _COLUMNS)):
        name = df.columns[i]
        column = {"name": name if isinstance(name, str) else repr(name), "dtype": str(df.dtypes.iloc[i])}
        _column_stats(pd, part.iloc[:, i], column)
        columns.append(column)
    signature = [(repr(c), str(t)) for c, t in zip(df.columns, df.dtypes)]
    digest, cut = _frame_hash(pd, part, signature)
    return {"kind": "dataframe", "shape": list(df.shape), "columns": columns,
            "sha256": digest, "sampled": sampled or cut}


def _series(pd, series):
    np = sys.modules.get("numpy")
    objects = len(series) if getattr(series.dtype, "kind", "O") == "O" else 0
    sampled = _size_estimate(series.memory_usage(index=True, deep=False), objects) > _LIMIT
    part = _sample_rows(series, np) if sampled else series
    name = series.name
    out = {"kind": "series", "shape": [len(series)],
           "name": name if name is None or isinstance(name, str) else repr(name),
           "dtype": str(series.dtype)}
    _column_stats(pd, part, out)
    out["sha256"], cut = _frame_hash(pd, part, [repr(name), str(series.dtype)])
    out["sampled"] = sampled or cut
    return out


def _tensor(library, t):
    """A torch or TensorFlow tensor: its numpy view (on the CPU) summarised like an array."""
    np = sys.modules.get("numpy")
    if library == "torch":
        t = t.detach()
        nbytes = t.element_size() * t.nelement()
        device = str(t.device)
        shape, dtype = list(t.shape), str(t.dtype)
        if nbytes > _LIMIT:  # move a bounded, evenly spaced slice only
            flat = t.reshape(-1)
            step = max(flat.numel() // _SAMPLE, 1)
            t = flat[::step][:_SAMPLE]
        values = t.cpu().numpy() if np is not None else None
    else:
        device = getattr(t, "device", "") or ""
        shape, dtype = [int(d) if d is not None else None for d in t.shape], str(t.dtype.name)
        values = t.numpy()
        nbytes = int(values.nbytes)
    out = {"kind": "tensor", "library": library, "shape": shape, "dtype": dtype, "device": str(device)}
    if values is None:
        out.update({"sha256": None, "sampled": True})
        return out
    summary = _ndarray(np, values)
    sampled = nbytes > _LIMIT or summary["sampled"]
    for key in ("min", "max", "mean"):
        if key in summary:
            out[key] = summary[key]
    out["sha256"] = summary["sha256"]
    out["sampled"] = sampled
    return out


_ATOMS = (int, float, complex, bool, str, bytes, type(None))


class _Budget:
    """How many more items a canonical form may visit, and whether some were left out."""

    def __init__(self, items=_ITEMS):
        self.left = items
        self.cut = False

    def take(self, iterable, length):
        """The first items of `iterable` the budget allows (all of them when it allows)."""
        if length > self.left:
            self.cut = True
            return itertools.islice(iterable, max(self.left, 0))
        return iterable


def _canonical(value, budget, depth):
    """Bytes that stand for a value: equal for equal containers (dict keys sorted, sets sorted),
    items as their canonical form or repr. `budget` bounds the items visited, so a huge
    container costs a bounded time (what is left out sets `budget.cut`)."""
    budget.left -= 1
    if budget.left < 0 or depth > _DEPTH:
        budget.cut = True
        return b"\x00..."
    kind = type(value)
    if kind in _ATOMS:
        return kind.__name__.encode() + b":" + repr(value).encode()
    if kind in (list, tuple):
        items = budget.take(value, len(value))
        return (kind.__name__.encode() + b"%d[" % len(value)
                + b",".join(_canonical(v, budget, depth + 1) for v in items) + b"]")
    if kind is dict:
        items = sorted(_canonical(k, budget, depth + 1) + b"=" + _canonical(v, budget, depth + 1)
                       for k, v in budget.take(value.items(), len(value)))
        return b"dict%d{" % len(value) + b",".join(items) + b"}"
    if kind in (set, frozenset):
        items = sorted(_canonical(v, budget, depth + 1) for v in budget.take(value, len(value)))
        return kind.__name__.encode() + b"%d{" % len(value) + b",".join(items) + b"}"
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return b"ndarray:" + _ndarray(np, value)["sha256"].encode()
    try:
        text = repr(value)
    except Exception:
        text = "<unrepresentable>"
    return _type_name(value).encode() + b":" + text[:1000].encode("utf-8", "replace")


def _collection(value):
    budget = _Budget()
    form = _canonical(value, budget, 0)
    return {"kind": "collection", "type": type(value).__name__, "length": len(value),
            "sha256": hashlib.sha256(form).hexdigest(), "sampled": budget.cut}


def _param(value):
    if value is None or isinstance(value, (bool, int, str)) and not isinstance(value, float):
        if isinstance(value, str) and len(value) > _REPR:
            return value[:_REPR]
        return value if not isinstance(value, int) or abs(value) < 2**63 else repr(value)
    if isinstance(value, float):
        return _num(value)
    return _bounded_repr(value)[0]


def _estimator(value):
    params = value.get_params(deep=False)
    h, fitted = hashlib.sha256(), False
    np = sys.modules.get("numpy")
    attributes = getattr(value, "__dict__", {})
    for name in sorted(attributes):
        if not name.endswith("_") or name.startswith("_"):
            continue
        item = attributes[name]
        if np is not None and isinstance(item, np.ndarray):
            form = _ndarray(np, item)["sha256"].encode()
        elif type(item) in _ATOMS or type(item) in (list, tuple):
            form = _canonical(item, _Budget(), 0)
        else:
            continue
        fitted = True
        h.update(name.encode() + b"=" + form + b";")
    kind = type(value)
    return {"kind": "estimator", "class": f"{kind.__module__}.{kind.__qualname__}",
            "params": {str(k): _param(v) for k, v in sorted(params.items(), key=lambda kv: str(kv[0]))},
            "fitted_sha256": h.hexdigest() if fitted else None}


def _summary_of(value):
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return _ndarray(np, value)
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(value, pd.DataFrame):
            return _dataframe(pd, value)
        if isinstance(value, pd.Series):
            return _series(pd, value)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return _tensor("torch", value)
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(value, getattr(tf, "Tensor", ())):
        return _tensor("tensorflow", value)
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return _collection(value)
    if not isinstance(value, type) and callable(getattr(value, "get_params", None)):
        return _estimator(value)
    text, truncated = _bounded_repr(value)
    return {"kind": "object", "repr": text, "truncated": truncated}


def _summary(value):
    """The summary of a tagged value, or {"kind": "failed"} with why: never an exception, never
    a warning printed in the user's cell."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np = sys.modules.get("numpy")
            if np is not None:
                with np.errstate(all="ignore"):
                    return _summary_of(value)
            return _summary_of(value)
    except BaseException as e:  # noqa: BLE001 - a broken object must not break the cell
        if isinstance(e, KeyboardInterrupt):
            raise
        try:
            message = f"{type(e).__name__}: {e}"
        except Exception:
            message = type(e).__name__
        return {"kind": "failed", "error": message[:_ERROR]}


def _tagged_info(value):
    """What a tagged value's row holds: the type, a scalar's value, or a summary."""
    info = _describe(value)
    if "value" not in info:
        info["summary"] = _summary(value)
    return info


def _stdlib():
    names = getattr(sys, "stdlib_module_names", None)
    return frozenset(names) if names else frozenset(sys.builtin_module_names)


def _version(name, module):
    """A package's version: its __version__, else its distribution's; None when neither is known."""
    try:
        version = getattr(module, "__version__", None)
        if isinstance(version, str):
            return version
    except Exception:
        pass
    try:
        from importlib import metadata

        return metadata.version(name)
    except Exception:
        pass
    try:
        from importlib import metadata

        if _DISTRIBUTIONS is None:  # one scan of the installed distributions per kernel
            globals()["_DISTRIBUTIONS"] = metadata.packages_distributions()
        for dist in _DISTRIBUTIONS.get(name, []):
            return metadata.version(dist)
    except Exception:
        pass
    return None


_DISTRIBUTIONS = None  # top-level module -> distributions, read when first needed


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
        # Tagged names (what the proxy's last collect said) and the last summary noted for each,
        # so a cell that only mentions a tagged name notes it when it changed.
        self.tagged = frozenset()
        self.last = {}
        # Packages: the top-level modules present at install are not the user's imports.
        self.modules = len(sys.modules)
        self.top_level = {name.partition(".")[0] for name in list(sys.modules)}
        self.stdlib = _stdlib()
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
            if not msg_id:
                return
            note = {}
            # "bound"/"deleted" only when something changed: their absence tells the dataflow
            # engine the probe saw nothing, as before summaries existed.
            if bound or deleted:
                note["bound"], note["deleted"] = bound, deleted
            if self.tagged:
                try:
                    summaries = self._summaries(bound, deleted, result)
                except Exception:  # bindings are still noted
                    summaries = None
                if summaries:
                    note["summaries"] = summaries
            if len(sys.modules) != self.modules:
                try:
                    packages = self._new_packages()
                except Exception:  # bindings are still noted
                    packages = None
                if packages:
                    note["packages"] = packages
            if note:
                self.pending[msg_id] = note
        except Exception:  # the probe must never disturb the user's work
            pass

    def _summaries(self, bound, deleted, result):
        """{name: info} for tagged names this cell rebound, or mentioned and changed."""
        ns = self.shell.user_ns
        rebound = {entry[0] for entry in bound}
        try:
            source = result.info.raw_cell or ""
        except Exception:
            source = ""
        summaries = {}
        for name in self.tagged:
            if name in deleted:
                self.last.pop(name, None)
                continue
            if name not in ns or name not in rebound and not (
                    name in source and re.search(r"(?<![\w.])" + re.escape(name) + r"(?!\w)", source)):
                continue
            info = _tagged_info(ns[name])
            if name in rebound or info != self.last.get(name):
                summaries[name] = info
            self.last[name] = info
        return summaries

    def _new_packages(self):
        """{name: version} of top-level, non-stdlib packages imported since the last look."""
        self.modules = len(sys.modules)
        packages = {}
        for name in list(sys.modules):
            top = name.partition(".")[0]
            if top in self.top_level:
                continue
            self.top_level.add(top)
            if top.startswith("_") or top in self.stdlib:
                continue
            version = _version(top, sys.modules.get(top))
            if version is not None:
                packages[top] = version
        return packages

    def collect(self, tags=()):
        """The notes not yet collected; an object IPython need not format when there are none.
        `tags` are the names tagged now: a newly tagged one is summarised at once, in the note
        of the request this expression belongs to."""
        if tags or self.tagged:
            try:
                self._retag(frozenset(tags))
            except Exception:  # the probe must never disturb the user's work
                pass
        if not self.pending:
            return _NOTHING
        notes, self.pending = self.pending, {}
        return _Notes(notes)

    def _retag(self, tags):
        if tags == self.tagged:
            return
        new = tags - self.tagged
        for name in self.tagged - tags:
            self.last.pop(name, None)
        self.tagged = tags
        ns = self.shell.user_ns
        msg_id = self._request_id()
        if not msg_id:
            return
        for name in sorted(new):
            if name not in ns:
                continue  # summarised once a cell binds it
            value = ns[name]
            info = _tagged_info(value)
            self.last[name] = info
            self.pending.setdefault(msg_id, {}).setdefault("tagged", {})[name] = [id(value), info]


def install(shell):
    module = sys.modules[__name__]
    old = getattr(module, "probe", None)
    if old is not None:
        try:
            old.shell.events.unregister("post_run_cell", old.post_run_cell)
        except ValueError:
            pass
    module.probe = Probe(shell)


def collect(tags=()):
    return module_probe().collect(tags)


def module_probe():
    return sys.modules[__name__].probe
