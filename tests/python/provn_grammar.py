"""A reader for the part of PROV-N (W3C Recommendation, 30 April 2013, section 3 and its
grammar in appendix A) that a PROV document of entities, activities, agents and the binary
relations uses, written from the spec's productions so a test can check PROV-N that the `prov`
package cannot parse: every token must match its production (QUALIFIED_NAME with PN_PREFIX and
PN_LOCAL, STRING_LITERAL with ECHAR escapes, QUALIFIED_NAME_LITERAL, INT_LITERAL, DATETIME),
every expression must have its arity and argument kinds, every prefix must be declared.

`read(text)` returns the records as plain tuples (`record(kind, args, attributes)`), which
`records_of(doc)` also builds from a `prov` document, so the two can be compared record for
record."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# [A.3] PN_CHARS_BASE restricted to ASCII letters, as a document of ours uses (a wider letter
# is still rejected: the test then says where).
PN_PREFIX = r"[A-Za-z](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?"
# PN_LOCAL ::= (PN_CHARS_U | [0-9] | PN_CHARS_OTHERS) ((PN_CHARS | '.' | PN_CHARS_OTHERS)*
#              (PN_CHARS | PN_CHARS_OTHERS))?   with PN_CHARS_OTHERS: / @ ~ & + * ? # $ !
#              PERCENT (%hex hex) and PN_CHARS_ESC (\ followed by a metacharacter).
_OTHERS = r"(?:[/@~&+*?#$!]|%[0-9A-Fa-f]{2}|\\[=\'(),\-:;\[\].])"
_FIRST = rf"(?:[A-Za-z_0-9]|{_OTHERS})"
_MIDDLE = rf"(?:[A-Za-z_0-9\-.]|{_OTHERS})"
_LAST = rf"(?:[A-Za-z_0-9\-]|{_OTHERS})"
PN_LOCAL = rf"{_FIRST}(?:{_MIDDLE}*{_LAST})?"
QUALIFIED_NAME = rf"(?:{PN_PREFIX}:)?{PN_LOCAL}"

TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\\n\r]|\\[tbnrf"'\\])*")
    | (?P<qnlit>'[^']*')
    | (?P<iri><[^<>"{}|^`\\\s]*>)
    | (?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?)
    | (?P<pct>%%)
    | (?P<punct>[(),\[\]=;-])
    | (?P<qname>""" + QUALIFIED_NAME + r""")
    )""",
    re.X,
)

# Each expression: the kinds of its positional arguments (id: an identifier; id?: an
# identifier or `-`; time?: a time or `-`), from the PROV-N productions of section 3.
ARGS = {
    "entity": ["id"],
    "activity": ["id", "time?", "time?"],
    "agent": ["id"],
    "used": ["id", "id?", "time?"],
    "wasGeneratedBy": ["id", "id?", "time?"],
    "wasDerivedFrom": ["id", "id", "id?", "id?", "id?"],
    "wasInformedBy": ["id", "id"],
    "wasAssociatedWith": ["id", "id?", "id?"],
    "actedOnBehalfOf": ["id", "id", "id?"],
}
# Relations whose arguments after the first two may be left out entirely (short forms).
ELEMENTS = {"entity", "activity", "agent"}
PREDECLARED = {"prov": "http://www.w3.org/ns/prov#", "xsd": "http://www.w3.org/2001/XMLSchema#"}
ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
INTEGER_TYPES = {"xsd:int", "xsd:long", "xsd:integer", "xsd:short"}


class ProvNError(ValueError):
    pass


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int


def tokens(text: str) -> list[Token]:
    out, pos = [], 0
    body = text  # (a document of ours has no comments)
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        m = TOKEN.match(body, pos)
        if not m or m.end() == pos:
            raise ProvNError(f"no PROV-N token at offset {pos}: {body[pos:pos + 40]!r}")
        kind = m.lastgroup
        out.append(Token(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


def unescape(string_token: str) -> str:
    return re.sub(r"\\(.)", lambda m: ECHAR[m.group(1)], string_token[1:-1])


def value(kind: str, text: str):
    """A normalised attribute value: (category, text) so both readers agree on equal values."""
    if kind == "qname":
        return ("qname", text)
    if kind == "int":
        return ("int", str(int(text)))
    if kind == "xsd:boolean":
        return ("bool", text.lower())
    if kind == "xsd:double":
        return ("double", repr(float(text)))
    if kind == "xsd:dateTime":
        return ("time", moment(text))
    if kind in INTEGER_TYPES:
        return ("int", str(int(text)))
    return ("string", text) if kind is None else (kind, text)


def moment(text: str) -> str:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc).isoformat()


class Reader:
    def __init__(self, text: str):
        self.toks = tokens(text)
        self.i = 0
        self.prefixes = dict(PREDECLARED)

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str | None = None, text: str | None = None) -> Token:
        t = self.peek()
        if t is None or (kind and t.kind != kind) or (text and t.text != text):
            raise ProvNError(f"expected {text or kind} at token {self.i}, found {t}")
        self.i += 1
        return t

    def qname(self) -> str:
        t = self.take("qname")
        if ":" not in t.text:
            raise ProvNError(f"{t.text!r} has no prefix (no default namespace is declared)")
        prefix = t.text.split(":", 1)[0]
        if prefix not in self.prefixes:
            raise ProvNError(f"prefix {prefix!r} of {t.text!r} is not declared")
        return t.text

    def document(self) -> list[tuple]:
        self.take("qname", "document")
        while (t := self.peek()) and t.text == "prefix":
            self.take()
            name = self.take("qname").text
            if not re.fullmatch(PN_PREFIX, name):
                raise ProvNError(f"bad prefix {name!r}")
            self.prefixes[name] = self.take("iri").text[1:-1]
        records = []
        while (t := self.peek()) and t.text != "endDocument":
            records.append(self.expression())
        self.take("qname", "endDocument")
        if self.peek() is not None:
            raise ProvNError("text after endDocument")
        return records

    def expression(self) -> tuple:
        name = self.take("qname").text
        if name not in ARGS:
            raise ProvNError(f"unknown expression {name!r}")
        self.take("punct", "(")
        ident = None
        # optionalIdentifier: `id ;` before the arguments of a relation.
        if name not in ELEMENTS and len(self.toks) > self.i + 1 and self.toks[self.i + 1].text == ";":
            ident = self.qname()
            self.take("punct", ";")
        args = []
        for n, kind in enumerate(ARGS[name]):
            if n > 0:
                t = self.peek()
                if t and t.text in (")",) and name not in ELEMENTS and n >= 2:
                    break  # a short form leaves the optional arguments out
                if t and t.text == "," and self.toks[self.i + 1].text == "[" and name in ELEMENTS:
                    break
                self.take("punct", ",")
            args.append(self.argument(kind))
        while len(args) < len(ARGS[name]):
            args.append(None)
        attrs = []
        if (t := self.peek()) and t.text == ",":
            self.take()
            attrs = self.attributes()
        self.take("punct", ")")
        return record(name, ident, tuple(args), attrs)

    def argument(self, kind: str):
        t = self.peek()
        if kind.endswith("?") and t and t.text == "-":
            self.take()
            return None
        if kind.startswith("time"):
            return moment(self.take("datetime").text)
        return self.qname()

    def attributes(self) -> list[tuple]:
        self.take("punct", "[")
        attrs = []
        while True:
            key = self.qname()
            self.take("punct", "=")
            attrs.append((key, self.literal()))
            if self.peek().text == "]":
                break
            self.take("punct", ",")
        self.take("punct", "]")
        return attrs

    def literal(self):
        t = self.take()
        if t.kind == "qnlit":
            inner = t.text[1:-1]
            if not re.fullmatch(QUALIFIED_NAME, inner) or inner.split(":", 1)[0] not in self.prefixes:
                raise ProvNError(f"bad qualified name literal {t.text}")
            return value("qname", inner)
        if t.kind == "string":
            text = unescape(t.text)
            if (n := self.peek()) and n.kind == "pct":
                self.take()
                return value(self.qname(), text)
            return value(None, text)
        if t.kind == "qname" and re.fullmatch(r"-?\d+", t.text):
            return value("int", t.text)
        raise ProvNError(f"not a literal: {t}")


def record(kind: str, ident, args: tuple, attrs) -> tuple:
    return (kind, ident, args, tuple(sorted(attrs)))


def read(text: str) -> list[tuple]:
    return Reader(text).document()


# --- the same records from a `prov` document ------------------------------------------------

def _norm(v):
    import prov.identifier as pi
    import prov.model as pm

    if isinstance(v, pi.QualifiedName):
        return value("qname", str(v))
    if isinstance(v, bool):
        return value("xsd:boolean", str(v))
    if isinstance(v, int):
        return value("int", str(v))
    if isinstance(v, float):
        return value("xsd:double", repr(v))
    if isinstance(v, dt.datetime):
        return ("time", v.astimezone(dt.timezone.utc).isoformat())
    if isinstance(v, pm.Literal):
        return value(str(v.datatype) if v.datatype else None, str(v.value))
    return value(None, str(v))


def records_of(doc) -> list[tuple]:
    from prov.constants import PROV_N_MAP

    out = []
    for r in doc.get_records():
        args = []
        for _, v in r.formal_attributes:
            if v is None:
                args.append(None)
            elif isinstance(v, dt.datetime):
                args.append(v.astimezone(dt.timezone.utc).isoformat())
            else:
                args.append(str(v))
        ident = str(r.identifier) if r.identifier is not None else None
        if r.is_element():
            args = [ident, *args]
            ident = None
        extra = [(str(k), _norm(v)) for k, v in r.extra_attributes]
        out.append(record(PROV_N_MAP[r.get_type()], ident, tuple(args), extra))
    return out
