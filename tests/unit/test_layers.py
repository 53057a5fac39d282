"""The shape of the code, checked: layers from the bottom up (the domain, adapters,
services, bootstrap, entrypoints, the function folders), each importing only from
itself and below, nothing in a circle, no service reaching into the HTTP layer or
another service's private names, and one retry policy."""

import ast
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return found


def test_the_domain_imports_nothing_from_outside_it() -> None:
    for path in (SHARED / "domain").glob("*.py"):
        for module, _ in imports_of(path):
            assert not module.startswith("shared") or module.startswith("shared.domain"), (
                f"{path.name} imports {module}"
            )


def test_no_service_imports_another_services_private_names() -> None:
    for path in (SHARED / "services").glob("*.py"):
        for module, names in imports_of(path):
            if module.startswith("shared.services."):
                private = [n for n in names if n.startswith("_")]
                assert private == [], f"{path.name} imports {private} from {module}"


def test_one_retry_policy_in_the_message_bus() -> None:
    """Only the message bus waits or counts attempts; a loop elsewhere takes its
    attempt numbers from `messagebus.attempts`."""
    for path in SHARED.rglob("*.py"):
        if path.name == "messagebus.py":
            continue
        text = path.read_text()
        assert "MAX_ATTEMPTS" not in text, path
        assert "time.sleep" not in text, path
        if "attempts(" in text:
            imported = dict(imports_of(path))
            assert "attempts" in imported.get("shared.services.messagebus", []), path


def test_the_wire_shapes_stay_out_of_the_domain_and_the_adapters_out_of_the_wire() -> None:
    for path in (SHARED / "domain").glob("*.py"):
        assert all(module != "shared.wire" for module, _ in imports_of(path)), path
    assert all(
        not module.startswith(("shared.adapters", "shared.services"))
        for module, _ in imports_of(SHARED / "wire.py")
    )


ROOT = SHARED.parent
FUNCTION_FOLDERS = sorted(
    p.parent.name for p in ROOT.glob("*/__init__.py") if "func.Blueprint()" in p.read_text()
)
LAYERS = ("domain", "adapters", "services", "bootstrap", "entrypoints", "function folders")
"""Top to bottom reversed: each imports only from its own layer and those before it."""


def layer_of(module: str) -> int | None:
    """Where a module of this project sits; None for anything else (libraries)."""
    top = module.split(".", maxsplit=1)[0]
    if top in FUNCTION_FOLDERS or module == "function_app":
        return 5
    if module.startswith("shared.entrypoints"):
        return 4
    if module == "shared.bootstrap":
        return 3
    if module.startswith("shared.services"):
        return 2
    if module.startswith("shared.adapters") or module == "shared.settings":
        return 1
    if module == "shared" or module.startswith("shared."):
        return 0  # the domain, and the kernel beside it: errors, wire shapes, clock
    return None


def project_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in [*SHARED.rglob("*.py"), ROOT / "function_app.py"] + [
        p for folder in FUNCTION_FOLDERS for p in (ROOT / folder).rglob("*.py")
    ]:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Every import of a project module by another, top-level or inside a function
    (a lazy import is still an arrow)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        for module, names in imports_of(path):
            for target in (module, *(f"{module}.{n}" for n in names)):
                if target in modules and target != name:
                    graph.setdefault(name, set()).add(target)
    return graph


def test_the_layers_are_there() -> None:
    assert {"link_function", "credit_processor", "monthly_refresh"} <= set(FUNCTION_FOLDERS)


def test_every_module_imports_only_from_its_layer_or_below() -> None:
    upward = [
        f"{source} ({LAYERS[layer_of(source) or 0]}) imports {target} ({LAYERS[layer_of(target) or 0]})"
        for source, targets in import_graph().items()
        for target in targets
        if (layer_of(target) or 0) > (layer_of(source) or 0)
    ]
    assert upward == []


def test_no_service_module_imports_the_entrypoints() -> None:
    for path in (SHARED / "services").glob("*.py"):
        modules = [module for module, _ in imports_of(path)]
        assert not any(m.startswith("shared.entrypoints") for m in modules), path.name


def test_nothing_imports_in_a_circle() -> None:
    graph = import_graph()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError(" -> ".join([*path[path.index(node) :], node]))
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, [*path, node])
        done.add(node)

    for module in sorted(graph):
        visit(module, [])
