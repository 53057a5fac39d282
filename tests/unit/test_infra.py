"""infra/ checked offline against the code's own names (the Bicep CLI cannot be
installed here): every .bicep file parses (pycep-parser), and the invariants that
keep a deployment working and safe hold. A queue added in code but not in Bicep
fails here, not in production."""

import functools
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from shared.adapters import names
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
PLATFORM_SET = ("storage_", "website_", "azure_functions_environment")
ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
}


@functools.cache
def parsed(name: str) -> dict[str, Any]:
    tree: dict[str, Any] = dict(BicepParser().parse(file_path=INFRA / name))
    return tree


def resource(tree: dict[str, Any], name: str) -> dict[str, Any]:
    config = tree["resources"][name]["config"]
    assert isinstance(config, dict)
    return config


def variable(tree: dict[str, Any], name: str) -> Any:
    return tree["variables"][name]["value"]


def app_settings() -> dict[str, Any]:
    settings = resource(parsed("app/api.bicep"), "appSettings")["properties"]
    assert isinstance(settings, dict)
    return settings


def test_every_bicep_file_parses() -> None:
    files = sorted(INFRA.rglob("*.bicep"))
    assert {f.name for f in files} >= {"main.bicep", "api.bicep", "storage.bicep"}
    for path in files:
        assert parsed(str(path.relative_to(INFRA)))


def test_every_table_and_queue_the_code_uses_is_declared() -> None:
    storage = parsed("app/storage.bicep")
    assert set(names.TABLES) <= set(variable(storage, "tableNames"))
    assert set(names.QUEUES) <= set(variable(storage, "queueNames"))
    loops = {
        name: resource(storage, name)["loop_type"]["detail"]["array_name"]
        for name in ("tables", "queues")
    }
    assert loops == {"tables": "tableNames", "queues": "queueNames"}


def test_every_setting_without_a_default_is_set_and_the_policy_durations_too() -> None:
    needed = [
        name.upper()
        for name, field in Settings.model_fields.items()
        if not name.startswith(PLATFORM_SET)
        and (field.default is None or name.startswith(("association_", "credit_")))
    ]
    assert needed
    missing = [name for name in needed if name not in app_settings()]
    assert missing == []


def test_storage_is_reached_by_identity_with_no_key_or_connection_string() -> None:
    settings = app_settings()
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    for suffix in ("clientId", "tableServiceUri", "queueServiceUri", "blobServiceUri"):
        assert f"AzureWebJobsStorage__{suffix}" in settings
    assert "AzureWebJobsStorage" not in settings
    assert "AzureWebJobsStorage__accountName" not in settings
    text = "\n".join(p.read_text() for p in INFRA.rglob("*.bicep"))
    for forbidden in (
        "listKeys(",
        "AccountKey",
        "DefaultEndpointsProtocol",
        "SharedAccessSignature",
    ):
        assert forbidden not in text
    storage = resource(parsed("app/storage.bicep"), "storage")["properties"]
    assert storage["allowSharedKeyAccess"] is False
    assert storage["allowBlobPublicAccess"] is False
    assert storage["minimumTlsVersion"] == "TLS1_2"


def test_flex_consumption_with_the_projects_python_version() -> None:
    api = parsed("app/api.bicep")
    assert resource(api, "plan")["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    runtime = resource(api, "app")["properties"]["functionAppConfig"]["runtime"]
    assert runtime["name"] == "python"
    assert runtime["version"] == "pythonVersion"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lowest = re.search(r">=\s*(\d+\.\d+)", project["requires-python"])
    assert lowest is not None
    assert variable(api, "pythonVersion") == lowest.group(1)
    assert "FUNCTIONS_WORKER_RUNTIME" not in app_settings()  # Flex Consumption refuses it


def test_app_service_authentication_lets_the_app_answer_its_own_401() -> None:
    auth = resource(parsed("app/api.bicep"), "authSettings")
    assert auth["name"] == "authsettingsV2"
    properties = auth["properties"]
    assert properties["platform"]["enabled"] is True
    assert properties["globalValidation"]["unauthenticatedClientAction"] == "AllowAnonymous"
    assert properties["identityProviders"]["azureActiveDirectory"]["enabled"] is True
    assert properties["login"]["tokenStore"]["enabled"] is True


def test_the_identity_has_exactly_the_roles_it_needs_and_telemetry_uses_it() -> None:
    rbac = parsed("app/rbac.bicep")
    granted = {
        variable(rbac, name) for name in rbac["variables"] if isinstance(variable(rbac, name), str)
    }
    assert set(ROLES) <= granted
    monitoring = resource(parsed("app/monitoring.bicep"), "applicationInsights")
    assert monitoring["properties"]["DisableLocalAuth"] is True
    assert "Authorization=AAD" in app_settings()["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]


def test_main_passes_every_parameter_the_app_module_declares() -> None:
    main = parsed("main.bicep")
    api = parsed("app/api.bicep")
    passed = set(main["modules"]["api"]["config"]["params"])
    assert set(api["parameters"]) == passed


def test_azd_knows_the_app_as_a_python_function() -> None:
    text = (ROOT / "azure.yaml").read_text()
    assert re.search(r"^\s+host: function$", text, re.M)
    assert re.search(r"^\s+language: python$", text, re.M)


@pytest.mark.parametrize("name", ["learnIssuer", "learnPublicKey", "assertionAudience"])
def test_azd_parameters_come_from_the_environment(name: str) -> None:
    import json

    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters[name]["value"].startswith("${")


def test_telemetry_goes_through_opentelemetry_and_the_homepage_is_off() -> None:
    settings = app_settings()
    assert settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"
    assert settings["AzureWebJobsDisableHomepage"] == "true"  # the portal owns `/`
    host = json.loads((ROOT / "host.json").read_text())
    assert host["telemetryMode"] == "OpenTelemetry"
    assert host["extensions"]["http"]["routePrefix"] == ""
