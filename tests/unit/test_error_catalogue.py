"""One error catalogue: every code is defined once in shared/errors.py, the OpenAPI
document lists each of them, and no other module spells a code or builds an error
by hand."""

import ast
from pathlib import Path

from shared import errors
from shared.entrypoints.openapi import openapi_document

SHARED = Path(__file__).resolve().parents[2] / "shared"


def test_every_code_is_defined_once_with_its_status() -> None:
    codes = [kind.code for kind in errors.CATALOGUE]
    assert len(codes) == len(set(codes))
    assert all(400 <= kind.status < 600 for kind in errors.CATALOGUE)


def test_the_openapi_document_lists_every_code_of_the_catalogue() -> None:
    described = " ".join(
        response["description"]
        for path in openapi_document()["paths"].values()
        for operation in path.values()
        for response in operation["responses"].values()
    )
    missing = [kind.code for kind in errors.CATALOGUE if kind.code not in described]
    assert missing == []


def test_no_module_outside_the_catalogue_spells_an_error_code_or_builds_an_error() -> None:
    codes = {kind.code for kind in errors.CATALOGUE}
    offenders = []
    for path in SHARED.rglob("*.py"):
        if path == SHARED / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in codes:
                offenders.append(f"{path.relative_to(SHARED)}:{node.lineno} {node.value!r}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("ServiceError", "ErrorKind")
            ):
                offenders.append(f"{path.relative_to(SHARED)}:{node.lineno} builds an error")
    assert offenders == []
