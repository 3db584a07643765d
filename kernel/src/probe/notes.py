"""How notes travel to the proxy. They wait in the probe (`Probe.pending`), keyed by the msg_id
of the execute request they belong to (`request_id`), until the proxy's user expression collects
them. IPython formats the collected object for the execute_reply: `Notes` as application/json
(the notes themselves), `NOTHING` as no data at all. `NOTHING` is collected when the only note
is the current request's and it says no name changed (`{"bound": [], "deleted": []}`, a `pass`):
the proxy reads an answer with no data as that note, so such a cell skips IPython's formatters
(a tenth of a millisecond) and carries no JSON. When there is no note at all (the probe could
not make one), `NO_NOTE` says so explicitly: an empty application/json.
"""


class Notes:
    """What the proxy gets: {request msg_id: note} (the note's format: tests/golden/probe/README.md)."""

    def __init__(self, notes):
        self.notes = notes

    def _repr_json_(self):
        return self.notes

    def __repr__(self):
        return f"<prov probe notes for {len(self.notes)} execution(s)>"


class _Nothing:
    """Collected when there are no notes. IPython lets an object with _ipython_display_ show
    itself and skips every formatter; this one shows nothing."""

    def _ipython_display_(self):
        pass


NOTHING = _Nothing()

# No note for any request: the proxy then knows nothing of this request's bindings.
NO_NOTE = Notes({})


def request_id(shell):
    """The msg_id of the execute request the kernel is answering, or None outside one."""
    kernel = getattr(shell, "kernel", None)
    try:
        parent = kernel.get_parent("shell")
    except TypeError:  # an ipykernel whose get_parent takes no channel
        parent = kernel.get_parent()
    except Exception:
        return None
    return (parent or {}).get("header", {}).get("msg_id")
