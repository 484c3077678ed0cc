"""hypothesis over every platform's real payload, through the running connector.

Each platform's documented payload (tests/fixtures/, via tests/platform_cases.py) is mutated at
any path: wrong types, deep nesting, lone UTF-16 surrogates, NUL, huge strings and numbers,
non-standard JSON numbers, renamed or surrogate keys, removed keys, or the body replaced by
garbage; then signed or authenticated as the platform does, so the mutation reaches the parsers.
Every answer must be below 500, valid UTF-8, and one the OpenAPI document lists for the route
in the platform's own shape (LeadSquared: always 200; Salesforce: SOAP XML; CleverTap: 200
success/failure ...). Afterwards no stored event holds text that cannot be encoded or sent.

``FUZZ_PLATFORM_CASES`` sets the examples per platform (150; the long campaign,
``FUZZ_CAMPAIGN=1``: 1,500).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.etree import ElementTree

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.fields import text_problem
from connector.jsonio import LONE_SURROGATE
from tests.conftest import HUBSPOT_SECRET, LiveConnector, deliver_queued
from tests.documented import Document
from tests.platform_cases import Call, Case, cases, shopify_sign

CASES = cases(HUBSPOT_SECRET)
CAMPAIGN = os.environ.get("FUZZ_CAMPAIGN") == "1"
EXAMPLES = int(os.environ.get("FUZZ_PLATFORM_CASES") or (1500 if CAMPAIGN else 150))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM") != "1"  # FUZZ_RANDOM=1: new cases each run
RAW = "\x1eRAW:"  # marks a JSON token hypothesis cannot build as a Python value
RAW_TOKENS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "9" * 5000, "1" * 4300]

HOSTILE_TEXT = [
    "\ud800", "\udfff", "Pri\ud83d", "\ud83d\ud83d", "a\udc00b", "\x00", "Pri\x00ya", "\x00" * 3,
    "", " ", "\t", "\n\n", "\r\n", "\u202eevil", "\ufeff", "\uffff", "😀" * 300, "x" * 5000,
    "{{user.phone}}", "{{", "}}", "{{ }}", "%00", "%ud800", "${jndi:ldap://x/a}", "<x>&amp;</x>",
    "'; DROP TABLE events; --", "+919876543210", "+91 98765 43210", "0091 98765 43210", "12",
    "2030-12-31T23:59:00+05:30", "2030-12-31T23:59:00", "1209600000", "14d", "P14D", "PT0S",
    "en_US", "en-US", "lto_summer", "LTO SUMMER", "[\"a\", \"b\"]", "[[[[", "a, b, c",
    "https://cdn.example.com/a.png", "javascript:alert(1)", "1" * 400, "-0", "0x10", "true",
]  # fmt: skip
text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=40),
    st.lists(
        st.one_of(st.characters(), st.sampled_from(["\ud800", "\udbff", "\udc00", "\x00"])),
        max_size=20,
    ).map("".join),
    st.integers(1025, 300_000).map(lambda n: "x" * n),
)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**300), 10**300),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
    st.sampled_from(RAW_TOKENS).map(lambda t: RAW + t),
)
keys = st.one_of(st.sampled_from(["to", "template_name", "body_params", "expires_at",
                                  "coupon_code", "k\ud800", "\x00", "", "a__b", "__", "body_1",
                                  "body_999", "Phone", "type", "parameters"]),
                 st.text(max_size=12))  # fmt: skip
tree = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def nested(depth: int, kind: str) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


deep = st.builds(nested, st.integers(1, 200), st.sampled_from(["list", "dict"]))
value = st.one_of(scalar, tree, deep)


# --- mutating a JSON document ------------------------------------------------------------------
def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for key, item in document.items():
            found += paths(item, (*prefix, key))
    elif isinstance(document, list):
        for index, item in enumerate(document):
            found += paths(item, (*prefix, index))
    return found


def text_paths(document: Any) -> list[tuple[Any, ...]]:
    """Where the document holds text (or a number a platform may send as text)."""
    found = []
    for path in paths(document):
        leaf: Any = document
        for step in path:
            leaf = leaf[step]
        if isinstance(leaf, str | int | float) and not isinstance(leaf, bool):
            found.append(path)
    return found or [()]


# edits that keep a text almost as it was: what a platform's cut or copy-paste produces
EDITS = {
    "cut_emoji": lambda s: s + "\ud83d",
    "lone_low": lambda s: "\udc00" + s,
    "nul": lambda s: s[:1] + "\x00" + s[1:],
    "control": lambda s: s + "\x07\x1b",
    "newline": lambda s: s + "\n",
    "spaces": lambda s: s + "      x",
    "emoji": lambda s: s + "😀",
    "long": lambda s: ((s or "x") * 3000)[:40_000],
    "blank": lambda s: "  ",
    "brackets": lambda s: "[" + s,
}


def edit(document: Any, path: tuple[Any, ...], how: str) -> Any:
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if path:
        parent[path[-1]] = EDITS[how](str(parent[path[-1]]))
    return document


def mutate(document: Any, path: tuple[Any, ...], kind: str, new: Any, key: str) -> Any:
    """The document with one change at ``path`` (skipped when an earlier change removed it)."""
    if not path:
        return new if kind == "set" else document
    parent = document
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return document
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        if kind == "set":
            parent[last] = new
        elif kind == "delete":
            del parent[last]
        elif kind == "rename":
            parent[key] = parent.pop(last)
        elif kind == "add":
            parent[key] = new
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        if kind in ("set", "rename"):
            parent[last] = new
        elif kind == "delete":
            del parent[last]
        elif kind == "add":
            parent.append(new)
    return document


def dumps(document: Any) -> bytes:
    """JSON as a JavaScript platform writes it (a lone surrogate as its escape), with the raw
    tokens hypothesis cannot represent (NaN, 1e400, 5000 digits) spliced in."""
    text_ = json.dumps(document)
    text_ = re.sub(r'"\\u001eRAW:([^"]*)"', lambda m: m.group(1), text_)
    return text_.encode()


def changes(document: Any) -> st.SearchStrategy[list[Any]]:
    return st.lists(
        st.tuples(
            st.sampled_from(paths(document)),
            st.sampled_from(["set", "set", "set", "delete", "rename", "add"]),
            value,
            keys,
        ),
        min_size=1,
        max_size=3,
    )


garbage = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"", b"null", b"[]", b"{}", b'"x"', b"1", b"{", b"\xff\xfe\x00{", b"[" * 5000,
                     b'{"a":' * 1000 + b"1" + b"}" * 1000, b"x" * (1024 * 1024 + 10)]),
)  # fmt: skip


# --- each platform's call, rebuilt around a mutated body ----------------------------------------
def rebuilt(call: Call, body: bytes) -> Call:
    headers = dict(call.headers)
    if "X-Shopify-Hmac-Sha256" in headers:  # signed over the body: sign what is sent
        headers["X-Shopify-Hmac-Sha256"] = shopify_sign(body)
    return Call(call.path, body, headers, dict(call.query), call.method)


def is_form(call: Call) -> bool:
    return call.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")


def is_xml(call: Call) -> bool:
    return "xml" in call.headers.get("Content-Type", "")


@st.composite
def json_bodies(draw: st.DrawFn, call: Call) -> bytes:
    """Half the time a text edited in place (the rest of the payload still valid, so the edit
    reaches the offer's rules and the store); else one to three structural changes."""
    document = json.loads(call.body)
    if draw(st.booleans()):
        for path in draw(st.lists(st.sampled_from(text_paths(document)), min_size=1, max_size=2)):
            document = edit(document, path, draw(st.sampled_from(sorted(EDITS))))
        return dumps(document)
    for path, kind, new, key in draw(changes(document)):
        document = mutate(copy.deepcopy(document), path, kind, new, key)
    return dumps(document)


@st.composite
def form_bodies(draw: st.DrawFn, call: Call) -> bytes:
    pairs = parse_qsl(call.body.decode(), keep_blank_values=True)
    index = draw(st.integers(0, max(0, len(pairs) - 1)))
    new = draw(text)
    if pairs and draw(st.booleans()):
        pairs[index] = (pairs[index][0], new)
    else:
        pairs.append((draw(st.text(max_size=10)), new))
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode()


@st.composite
def xml_bodies(draw: st.DrawFn, call: Call) -> bytes:
    root = ElementTree.fromstring(call.body)
    elements = list(root.iter())
    target = draw(st.sampled_from(elements))
    kind = draw(st.sampled_from(["text", "text", "drop", "copy", "tag"]))
    if kind == "text":
        target.text = draw(text)
    elif kind == "tag":
        target.tag = draw(st.sampled_from(["Notification", "Id", "sObject", "x", "OrganizationId"]))
    else:
        parent = next((p for p in elements if target in list(p)), None)
        if parent is not None and kind == "drop":
            parent.remove(target)
        elif parent is not None:
            for _ in range(draw(st.integers(1, 120))):
                parent.append(copy.deepcopy(target))
    out = ElementTree.tostring(root, encoding="unicode")
    return out.encode("utf-8", "surrogatepass")  # a surrogate becomes bytes XML cannot read


def bodies(call: Call) -> st.SearchStrategy[bytes]:
    if is_xml(call):
        mutated = xml_bodies(call)
    elif is_form(call):
        mutated = form_bodies(call)
    else:
        mutated = json_bodies(call)
    return st.one_of(mutated, mutated, mutated, mutated, garbage)


CONTENT_TYPES = [
    None, "application/json", "text/plain", "application/x-www-form-urlencoded", "text/xml",
    "multipart/form-data; boundary=x", "application/json; charset=latin-1",
]  # fmt: skip


QUERY_KEYS = ["template_name", "body_1", "coupon_code", "to", "expires_in", "api_key", "portalId",
              "ref", "unknown"]  # fmt: skip
# a URL carries UTF-8 only, and no HTTP server takes a request line of 64 KB (414 before the app)
url_text = text.map(lambda s: LONE_SURROGATE.sub("", s)[:2000])


def fuzz_platform(connector: LiveConnector, case: Case, examples: int) -> Counter[int]:
    document = Document(connector.get("/openapi.json").json())
    template = case.valid()
    session = requests.Session()
    sent: Counter[int] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        body=bodies(template),
        content_type=st.one_of(st.just("keep"), st.sampled_from(CONTENT_TYPES)),
        prefer=st.booleans(),
        query=st.dictionaries(st.sampled_from(QUERY_KEYS), url_text, max_size=2),
    )
    def run(body: bytes, content_type: str | None, prefer: bool, query: dict[str, str]) -> None:
        call = rebuilt(template, body)
        call.query.update(query)
        if content_type != "keep":
            call.headers.pop("Content-Type", None)
            if content_type is not None:
                call.headers["Content-Type"] = content_type
        if prefer:
            call.headers["Prefer"] = "respond-async"
        response = call.send(connector.base_url, session)
        sent[response.status_code] += 1
        assert response.status_code < 500, response.text[:500]
        document.check(template.path, "post", response)
        if case.platform == "leadsquared":
            assert response.status_code == 200  # LeadSquared may disable a webhook on 4xx/5xx

    run()
    return sent


def nothing_unsendable_was_kept(connector: LiveConnector) -> None:
    """No stored event carries text that cannot be encoded or sent, and every one can still be
    delivered (a worker would not die on it)."""
    events = connector.runtime.store.recent(limit=100_000)
    for event in events:
        for text_ in strings((event.offer, event.payload, event.dedupe_key)):
            assert text_problem(text_) is None, (event.id, text_[:80])
        json.dumps(event.payload, ensure_ascii=False).encode("utf-8")
    deliver_queued(connector)


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in strings(item)]
    return []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.platform)
def test_fuzz_platform_payloads(tenants: LiveConnector, case: Case) -> None:
    sent = fuzz_platform(tenants, case, EXAMPLES)
    print(f"\nhypothesis {case.platform}: {sent.total()} requests {dict(sorted(sent.items()))}")
    nothing_unsendable_was_kept(tenants)
