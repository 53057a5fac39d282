"""The portal keeps its own small fetch layer (api.js, no build step); every call it
makes is checked here against the OpenAPI document: the operation exists, the query
parameters are the operation's, a body has the request schema's fields, a CSV
download asks an operation that answers CSV, and the lists it offers in forms are
the document's enums."""

import re
from pathlib import Path
from typing import Any

from shared.entrypoints.openapi import openapi_document

PORTAL = Path(__file__).resolve().parents[2] / "shared" / "entrypoints" / "portal"

_CALL = re.compile(
    r"\b(json|call)\(\"(GET|POST|PUT|PATCH|DELETE)\",\s*([`\"])(.+?)\3(?=(.{0,200}))", re.S
)
_FETCH = re.compile(r"\bfetch\(\"(/api/[^\"]+)\"")
_CSV = re.compile(r"\bdownloadCsv\([`\"](/api/[^`\"]+)[`\"]")
_BODY = re.compile(r"^\s*,\s*\{\s*body:\s*\{([^{}]*)\}", re.S)
_SET = re.compile(r"\b(?:query|pageQuery)\.set\(\"([a-z_]+)\"")
_LITERAL_QUERY = re.compile(r"[`\"]\?([a-z_]+)=")


def portal_calls(source: str) -> list[dict[str, Any]]:
    """Each API call in a portal script: method, path template, body keys, CSV."""
    calls: list[dict[str, Any]] = []
    for _, method, _, raw, after in _CALL.findall(source):
        if not raw.startswith("/api/"):
            continue  # the CSV pager's own call: its paths are the downloadCsv calls
        body = _BODY.match(after)
        keys = set(re.findall(r"([a-z_]+)\s*:", body.group(1))) if body else None
        calls.append({"method": method, "path": _template(raw), "body": keys, "csv": False})
    for raw in _FETCH.findall(source):
        calls.append({"method": "GET", "path": _template(raw), "body": None, "csv": False})
    for raw in _CSV.findall(source):
        calls.append({"method": "GET", "path": _template(raw), "body": None, "csv": True})
    return calls


def _template(raw: str) -> str:
    path = raw.split("?", 1)[0].removeprefix("/api")
    # A trailing `${query}` right after a segment is the query string, not a segment.
    path = re.sub(r"(?<=[^/])\$\{[^}]*\}$", "", path)
    return re.sub(r"\$\{[^}]*\}", "{}", path)


def problems(sources: dict[str, str], document: dict[str, Any]) -> list[str]:
    found: list[str] = []
    operations = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path)): op
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    }
    schemas = document["components"]["schemas"]
    query_names = {
        p["name"] for ops in document["paths"].values() for op in ops.values()
        for p in op.get("parameters", []) if p["in"] == "query"
    }  # fmt: skip
    for name, source in sources.items():
        for call in portal_calls(source):
            op = operations.get((call["method"], call["path"]))
            where = f"{name}: {call['method']} {call['path']}"
            if op is None:
                found.append(f"{where} is not an operation of the document")
                continue
            if call["csv"] and "text/csv" not in op["responses"]["200"]["content"]:
                found.append(f"{where} downloads CSV but the operation does not answer it")
            if call["body"] is not None:
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                schema = schemas[ref.rsplit("/", 1)[-1]]
                unknown = call["body"] - set(schema["properties"])
                missing = set(schema.get("required", [])) - call["body"]
                if unknown or missing:
                    found.append(
                        f"{where} body: unknown {sorted(unknown)}, missing {sorted(missing)}"
                    )
        for parameter in [*_SET.findall(source), *_LITERAL_QUERY.findall(source)]:
            if parameter not in query_names:
                found.append(f"{name}: query parameter {parameter!r} is in no operation")
    return found


def _sources() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(PORTAL.glob("*.js"))}


def test_every_call_of_the_portal_is_an_operation_of_the_document() -> None:
    sources = _sources()
    calls = [call for source in sources.values() for call in portal_calls(source)]
    assert len(calls) >= 12  # the scripts were read: every page's calls
    assert problems(sources, openapi_document()) == []


def test_a_call_the_document_does_not_have_is_found() -> None:
    broken = {
        "broken.js": """
            await json("PUT", `/api/org/users/${encodeURIComponent(email)}`);
            await json("POST", "/api/org/users", { body: { mail: email } });
            downloadCsv("/api/org/designations", "", "d.csv");
            query.set("sort", "name");
        """
    }
    found = problems(broken, openapi_document())
    assert len(found) == 4, found
    assert "PUT /org/users/{}" in found[0]
    assert "unknown ['mail'], missing ['display_name', 'email']" in found[1]


def test_the_activity_types_the_portal_offers_are_the_documents() -> None:
    source = (PORTAL / "org.js").read_text()
    listed = re.search(r"const ACTIVITY_TYPES = \[(.*?)\];", source, re.S)
    assert listed is not None
    offered = re.findall(r"\"([a-z_.]+)\"", listed.group(1))
    assert offered == openapi_document()["components"]["schemas"]["ActivityType"]["enum"]
