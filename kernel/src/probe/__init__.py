"""prov's runtime probe, installed silently in the child kernel at start-up as the package
`_prov_probe` (kernel/src/probe.rs says how; no name is bound in the user's namespace).

After every cell (IPython's post_run_cell event, which fires for failed cells too) it notes
what changed (changes.py: globals bound to a different object or deleted, each with its id()
and type, and a scalar's value; fingerprints.py: a content hash of each array, frame, tensor
or estimator among them), a summary of each tagged value that changed (summaries.py,
one file per library family: arrays, frames, tensors, estimators), the packages the cell
imported (packages.py), and the files the user's code opened while the cell ran, each with a
content hash (files.py, recording from IPython's pre_run_cell event on). The proxy collects
these notes through the user_expressions of the next execute_request whose code succeeds,
keyed by the request they belong to, and strips them from the reply before any client sees it
(notes.py). The notes' format, with examples the tests check on both sides:
tests/golden/probe/README.md.

The collecting expression also tells the probe which names are tagged (`collect(('a', 'b'))`):
a tagged name gets a summary of its value when it is tagged, and after every cell that rebinds
it or mentions it and changed it.
"""

import re
import sys

from .changes import Bindings
from .files import Files
from .fingerprints import add_fingerprints, mentioned_fingerprints
from .notes import NO_NOTE, NOTHING, Notes, request_id
from .packages import Packages
from .summaries import tagged_info


class Probe:
    def __init__(self, shell):
        self.shell = shell
        self.bindings = Bindings(shell.user_ns)
        # Notes not collected yet, by request msg_id.
        self.pending = {}
        # Tagged names (what the proxy's last collect said) and the last summary noted for each,
        # so a cell that only mentions a tagged name notes it when it changed.
        self.tagged = frozenset()
        self.last = {}
        # The last fingerprint noted for each name, so a cell that only reads an array notes
        # nothing about it.
        self.fingerprints = {}
        # Packages: the top-level modules present at install are not the user's imports.
        self.packages = Packages()
        # Files opened by the user's code: recorded from pre_run_cell to post_run_cell. Without
        # audit hooks (an interpreter that refuses one) the notes simply have no files.
        try:
            self.files = Files(shell)
            shell.events.register("pre_run_cell", self.files.start)
        except Exception:
            self.files = None
        shell.events.register("post_run_cell", self.post_run_cell)

    def post_run_cell(self, result):
        try:
            files = self.files.finish(result) if self.files is not None else None
        except Exception:  # the rest of the note is still made
            files = None
        try:
            bound, deleted = self.bindings.changes(self.shell.user_ns)
            msg_id = request_id(self.shell)
            if not msg_id:
                return
            try:
                mentioned = self._fingerprints(bound, deleted, result)
            except Exception:  # bindings are still noted
                mentioned = None
            # "bound"/"deleted" always, even empty: that the probe saw no name change is a
            # fact the dataflow engine uses (`try: x = f()` that raised left `x` alone).
            note = {"bound": bound, "deleted": deleted}
            if mentioned:
                note["fingerprints"] = mentioned
            if self.tagged:
                try:
                    summaries = self._summaries(bound, deleted, result)
                except Exception:  # bindings are still noted
                    summaries = None
                if summaries:
                    note["summaries"] = summaries
            if files:
                note["files"] = files
            if self.packages.changed():
                try:
                    packages = self.packages.new(_source(result))
                except Exception:  # bindings are still noted
                    packages = None
                if packages:
                    note["packages"] = packages
            if note:
                self.pending[msg_id] = note
        except Exception:  # the probe must never disturb the user's work
            pass

    def _fingerprints(self, bound, deleted, result):
        """Fingerprints the values of `bound` (into their info), then those the cell mentioned
        without rebinding them: {name: info} of the latter whose content changed since the
        last fingerprint noted for the name (a mutation in place, `model.fit(X)`)."""
        left = add_fingerprints(bound, self.shell.user_ns)
        last = self.fingerprints
        for name in deleted:
            last.pop(name, None)
        for name, _, info in bound:
            if "fingerprint" in info:
                last[name] = info["fingerprint"]["sha256"]
            else:
                last.pop(name, None)
        mentioned = mentioned_fingerprints(
            _source(result), self.shell.user_ns, {entry[0] for entry in bound}, left)
        changed = {}
        for name, info in mentioned.items():
            sha = info["fingerprint"]["sha256"]
            if last.get(name) != sha:
                changed[name] = info
                last[name] = sha
        return changed

    def _summaries(self, bound, deleted, result):
        """{name: info} for tagged names this cell rebound, or mentioned and changed."""
        ns = self.shell.user_ns
        rebound = {entry[0] for entry in bound}
        source = _source(result)
        summaries = {}
        for name in self.tagged:
            if name in deleted:
                self.last.pop(name, None)
                continue
            if name not in ns or name not in rebound and not (
                    name in source and re.search(r"(?<![\w.])" + re.escape(name) + r"(?!\w)", source)):
                continue
            info = tagged_info(ns[name])
            if name in rebound or info != self.last.get(name):
                summaries[name] = info
            self.last[name] = info
        return summaries

    def collect(self, tags=()):
        """The notes not yet collected: NOTHING (an object IPython need not format) when they are
        only this request's note saying no name changed, NO_NOTE when there are none at all.
        `tags` are the names tagged now: a newly tagged one is summarised at once, in the note
        of the request this expression belongs to."""
        if tags or self.tagged:
            try:
                self._retag(frozenset(tags))
            except Exception:  # the probe must never disturb the user's work
                pass
        pending = self.pending
        if not pending:
            return NO_NOTE
        if len(pending) == 1:
            note = pending.get(request_id(self.shell))
            if note is not None and len(note) == 2 and not note["bound"] and not note["deleted"]:
                # The one note is this request's and says no name changed (a `pass`): NOTHING
                # says so at almost no cost (the proxy reads an empty answer as that note).
                self.pending = {}
                return NOTHING
        self.pending = {}
        return Notes(pending)

    def _retag(self, tags):
        if tags == self.tagged:
            return
        new = tags - self.tagged
        for name in self.tagged - tags:
            self.last.pop(name, None)
        self.tagged = tags
        ns = self.shell.user_ns
        msg_id = request_id(self.shell)
        if not msg_id:
            return
        for name in sorted(new):
            if name not in ns:
                continue  # summarised once a cell binds it
            value = ns[name]
            info = tagged_info(value)
            self.last[name] = info
            self.pending.setdefault(msg_id, {}).setdefault("tagged", {})[name] = [id(value), info]


def _source(result):
    """The cell's code as typed, or "" when IPython's result does not say."""
    try:
        return result.info.raw_cell or ""
    except Exception:
        return ""


def install(shell):
    """Starts probing `shell` (once per child kernel: the proxy installs it at start-up)."""
    sys.modules[__name__].probe = Probe(shell)


def collect(tags=()):
    """What the proxy's user expression evaluates: see Probe.collect."""
    return sys.modules[__name__].probe.collect(tags)

