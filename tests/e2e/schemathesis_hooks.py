"""Schemathesis' checks as this project runs them (`SCHEMATHESIS_HOOKS` names this
module): every built-in check, two of them replaced by a version with documented
exemptions (`positive_data_acceptance`: requests the document says are refused though
JSON Schema cannot express it; `unsupported_method`: methods no function can declare),
and one check of this project's own: an error's code is one of those the document
lists for that operation and status (`x-error-codes`)."""

from datetime import datetime, timedelta
from typing import Any

import schemathesis
from schemathesis import checks
from schemathesis.core.failures import Failure

from shared.wire import MAX_QUERY_DURATION

EXEMPT_FROM_POSITIVE_DATA_ACCEPTANCE = {
    "continuation": "a token is opaque: only one the service issued is valid (the document's "
    "pattern says which characters one has, and that any other value is a 400)",
    "since after until": "a rule across two parameters that JSON Schema cannot say (since's "
    "description says it)",
    "duration over a century": "JSON Schema has no maximum for a `duration` (the parameter's "
    "description says it)",
    "webhook host": "a webhook URL's host must be a DNS name that resolves to public addresses "
    "(the field's description says it): a property of DNS at the time of the call, which no "
    "schema can state; the service answers 400 with field `url`",
}


def exemption(case: Any) -> str | None:
    """Why a request the schema calls valid is refused anyway, or None."""
    query = case.query or {}
    if "continuation" in query:
        return "continuation"
    if _window_reversed(query):
        return "since after until"
    if _over_a_century(query):
        return "duration over a century"
    return None


def _over_a_century(query: dict[str, Any]) -> bool:
    from pydantic import TypeAdapter, ValidationError

    if not query.get("expiring_within"):
        return False
    try:
        return bool(
            TypeAdapter(timedelta).validate_python(query["expiring_within"]) > MAX_QUERY_DURATION
        )
    except (ValidationError, OverflowError):
        return True


def _window_reversed(query: dict[str, Any]) -> bool:
    try:
        return bool(
            query.get("since")
            and query.get("until")
            and datetime.fromisoformat(str(query["since"]))
            > datetime.fromisoformat(str(query["until"]))
        )
    except ValueError:
        return False


def _refused_webhook_host(response: Any, case: Any) -> bool:
    if case.method.upper() != "POST" or case.path != "/org/webhooks":
        return False
    try:
        return bool(response.status_code == 400 and response.json()["error"]["field"] == "url")
    except (ValueError, KeyError, TypeError):
        return False


def _builtin_unless(name: str, builtin: Any, exempt: Any) -> Any:
    """`builtin`, registered as `name`, that passes a response `exempt` says is documented."""

    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        if exempt(response, case):
            return None
        return builtin(ctx, response, case)  # type: ignore[no-any-return]

    check.__name__ = check.__qualname__ = name
    return schemathesis.check(check)


positive_data_acceptance_unless_documented = _builtin_unless(
    "positive_data_acceptance_unless_documented",
    checks.positive_data_acceptance,
    lambda response, case: exemption(case) is not None or _refused_webhook_host(response, case),
)


_UNDECLARABLE = (
    "the Python programming model cannot declare it (func.HttpMethod has GET, POST, DELETE, "
    "HEAD, PATCH, PUT and OPTIONS only), so no function can answer 405 for it: the host "
    "answers 404, as for any method no function declares (azure-functions-host#10098)"
)
UNDECLARABLE_METHODS = {"TRACE": _UNDECLARABLE, "CONNECT": _UNDECLARABLE, "QUERY": _UNDECLARABLE}


unsupported_method_unless_undeclarable = _builtin_unless(
    "unsupported_method_unless_undeclarable",
    checks.unsupported_method,
    lambda response, case: str(response.request.method).upper() in UNDECLARABLE_METHODS,
)


EMPTY_QUERY_VALUE = (
    "the Functions host drops a query parameter whose value is empty before the function "
    "sees it (RpcMessageConversionExtensions.ToRpcHttp), so `?until=` is `until` absent, "
    "which the document allows; the local runner does the same"
)


negative_data_rejection_unless_empty_query_value = _builtin_unless(
    "negative_data_rejection_unless_empty_query_value",
    checks.negative_data_rejection,
    lambda response, case: any(value in ("", None) for value in (case.query or {}).values()),
)


class UndocumentedErrorCode(Failure):
    kind_title = "Undocumented error code"


@schemathesis.check
def error_code_documented(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code < 400 or response.status_code == 405:
        return None
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None  # the schema checks say whether the body had to be an error
    declared = case.operation.definition.raw.get("responses", {}).get(str(response.status_code))
    documented = list((declared or {}).get("x-error-codes", []))
    if code not in documented:
        raise UndocumentedErrorCode(
            operation=case.operation.label,
            message=f"{response.status_code} `{code}` is not among the documented {documented}",
        )
    return None
