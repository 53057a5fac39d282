"""The shape of shared/, checked: the domain imports nothing from outside it, no
service reaches into another service's private names, and no module but the unit
of work retries."""

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


def test_only_the_unit_of_work_retries() -> None:
    for path in SHARED.rglob("*.py"):
        if path.name == "unit_of_work.py":
            continue
        text = path.read_text()
        assert "MAX_ATTEMPTS" not in text, path
        assert "attempts(" not in text, path
        assert "time.sleep" not in text, path


def test_the_wire_shapes_stay_out_of_the_domain_and_the_adapters_out_of_the_wire() -> None:
    for path in (SHARED / "domain").glob("*.py"):
        assert all(module != "shared.wire" for module, _ in imports_of(path)), path
    assert all(
        not module.startswith(("shared.adapters", "shared.services"))
        for module, _ in imports_of(SHARED / "wire.py")
    )
