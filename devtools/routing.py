"""Find an HTTP function by method and path from the functions' own binding
metadata, the way the Functions host does."""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote


@dataclass(frozen=True)
class Route:
    name: str
    methods: frozenset[str]
    template: str
    pattern: re.Pattern[str]
    function: Any

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() not in self.methods:
            return None
        found = self.pattern.fullmatch(path.strip("/"))
        return {k: unquote(v) for k, v in found.groupdict().items()} if found else None


def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    for piece in re.split(r"(\{[^}]+\})", template.strip("/")):
        if piece.startswith("{*"):
            parts.append(f"(?P<{piece[2:-1]}>.*)")
        elif piece.startswith("{"):
            name = piece[1:-1].split(":")[0].rstrip("?")
            parts.append(f"(?P<{name}>[^/]+)")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def http_routes(functions: list[Any]) -> list[Route]:
    """From the list app.get_functions() gave (it may be called once per app)."""
    routes = []
    for function in functions:
        trigger = function.get_trigger()
        if trigger is None or trigger.get_binding_name() != "httpTrigger":
            continue
        name = str(function.get_function_name())
        template = str(getattr(trigger, "route", None) or name)
        declared = getattr(trigger, "methods", None) or []
        methods = frozenset(str(getattr(m, "value", m)).upper() for m in declared)
        routes.append(
            Route(
                name=name,
                methods=methods,
                template=template,
                pattern=_pattern(template),
                function=function.get_user_function(),
            )
        )
    # As ASP.NET routing does: a catch-all (`{*path}`) route only gets what no other takes.
    return sorted(routes, key=lambda route: "{*" in route.template)


def find_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None


@dataclass(frozen=True)
class DevContext:
    """What the Functions host passes as `context`: here, the invocation id."""

    invocation_id: str
    function_name: str = ""


def invoke(function: Any, trigger: Any, name: str = "") -> Any:
    """Call a function as the host does: the trigger, and `context` when declared."""
    import inspect
    import uuid

    if "context" in inspect.signature(function).parameters:
        return function(trigger, context=DevContext(str(uuid.uuid4()), name))
    return function(trigger)
