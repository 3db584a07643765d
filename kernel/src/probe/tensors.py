"""Summaries of torch and TensorFlow tensors (`kind: "tensor"`): their numpy view, on the CPU,
summarised like an array; and their fingerprints (`tensor_fingerprint`)."""

import hashlib
import sys

from .arrays import ndarray
from .hashing import array_hash, array_sampled
from .limits import LIMIT, SAMPLE


def tensor_fingerprint(library, t, limit):
    """(sha256, sampled) of a tensor's elements through its numpy view, with its shape and
    dtype; over `limit` bytes only evenly spaced elements leave the device. None without numpy."""
    np = sys.modules.get("numpy")
    if np is None:
        return None
    if library == "torch":
        t = t.detach()
        shape, dtype = tuple(t.shape), str(t.dtype)
        sampled = t.element_size() * t.nelement() > limit
        if sampled:
            flat = t.reshape(-1)
            t = flat[::max(flat.numel() // SAMPLE, 1)][:SAMPLE]
        values = t.cpu().numpy()
    else:
        shape, dtype = tuple(t.shape), str(t.dtype.name)
        values = t.numpy()
        sampled = array_sampled(values, limit)
    h = hashlib.sha256(repr((library, shape, dtype)).encode())
    h.update(array_hash(np, values, array_sampled(values, limit)).encode())
    return h.hexdigest(), sampled


def tensor(library, t):
    np = sys.modules.get("numpy")
    if library == "torch":
        t = t.detach()
        nbytes = t.element_size() * t.nelement()
        device = str(t.device)
        shape, dtype = list(t.shape), str(t.dtype)
        if nbytes > LIMIT:  # move a bounded, evenly spaced slice only
            flat = t.reshape(-1)
            step = max(flat.numel() // SAMPLE, 1)
            t = flat[::step][:SAMPLE]
        # torch runs without numpy; then there is no view to hash.
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
    summary = ndarray(np, values)
    sampled = nbytes > LIMIT or summary["sampled"]
    for key in ("min", "max", "mean"):
        if key in summary:
            out[key] = summary[key]
    out["sha256"] = summary["sha256"]
    out["sampled"] = sampled
    return out
