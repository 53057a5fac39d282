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
    # The portal reads GET /api/whoami: nothing needs the token store (README).
    assert properties["login"]["tokenStore"]["enabled"] is False


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


def chosen(expression: Any, values: dict[str, Any]) -> Any:
    """A Bicep conditional as pycep parses it, decided for the given parameter values
    (`flag ? a : b` and `empty(name) ? a : b`); anything else as it is."""
    operator = expression.get("operator") if isinstance(expression, dict) else None
    if not operator or operator["type"] != "conditional":
        return expression
    operands = operator["operands"]
    condition = operands["condition"]
    if isinstance(condition, dict) and condition["function"]["type"] == "empty":
        holds = not values[condition["function"]["parameters"]["item_to_test"]]
    else:
        holds = bool(values[condition])
    return chosen(operands["true_value" if holds else "false_value"], values)


SECRET_WORDS = ("secret", "password", "AUTH_CLIENT_SECRET", "MICROSOFT_PROVIDER_AUTHENTICATION")


def test_no_secret_anywhere_in_infra_the_app_settings_or_the_azd_parameters() -> None:
    for name in ("main.bicep", "app/api.bicep"):
        tree = parsed(name)
        for parameter, declared in tree["parameters"].items():
            assert not any(w.lower() in parameter.lower() for w in ("secret", "password"))
            assert all(d["type"] != "secure" for d in declared["decorators"]), parameter
    assert not any(w.lower() in k.lower() for k in app_settings() for w in SECRET_WORDS)
    parameters = (INFRA / "main.parameters.json").read_text()
    assert not any(w.lower() in parameters.lower() for w in SECRET_WORDS)
    text = "\n".join(p.read_text() for p in INFRA.rglob("*.bicep"))
    assert "@secure()" not in text


def test_sign_in_uses_the_managed_identity_as_a_federated_credential() -> None:
    registration = resource(parsed("app/api.bicep"), "authSettings")["properties"][
        "identityProviders"
    ]["azureActiveDirectory"]["registration"]
    assert registration["clientSecretSettingName"] == "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"
    assert app_settings()["OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"] == "identityClientId"
    assert registration["openIdIssuer"] == "https://login.microsoftonline.com/common/v2.0"
    outputs = parsed("main.bicep")["outputs"]
    for name in (
        "AUTH_REDIRECT_URI",
        "AUTH_FEDERATED_CREDENTIAL_ISSUER",
        "AUTH_FEDERATED_CREDENTIAL_SUBJECT",
        "AUTH_FEDERATED_CREDENTIAL_AUDIENCE",
    ):
        assert name in outputs
    assert outputs["AUTH_FEDERATED_CREDENTIAL_AUDIENCE"]["value"] == "api://AzureADTokenExchange"


# Where Flex Consumption runs (Azure-Samples/functions-quickstart-python-http-azd).
FLEX_REGIONS = {
    "australiaeast", "australiasoutheast", "brazilsouth", "canadacentral", "centralindia",
    "centralus", "eastasia", "eastus", "eastus2", "francecentral", "germanywestcentral",
    "italynorth", "japaneast", "koreacentral", "northcentralus", "northeurope", "norwayeast",
    "southafricanorth", "southcentralus", "southeastasia", "southindia", "spaincentral",
    "swedencentral", "uaenorth", "uksouth", "ukwest", "westcentralus", "westeurope", "westus",
    "westus2", "westus3",
}  # fmt: skip


def test_location_is_limited_to_flex_consumption_regions_with_azds_metadata() -> None:
    decorators = {
        d["type"]: d["argument"]
        for d in parsed("main.bicep")["parameters"]["location"]["decorators"]
    }
    assert set(decorators["allowed"]) == FLEX_REGIONS
    assert decorators["metadata"] == {"azd": {"type": "location"}}


@pytest.mark.parametrize("operator", ["", "7d3c1e2a-4b5c-4d6e-8f90-1a2b3c4d5e6f"])
def test_an_operator_gets_the_table_queue_and_blob_data_roles_and_nobody_else(
    operator: str,
) -> None:
    main = parsed("main.bicep")
    assert main["parameters"]["principalId"]["default"] == ""
    assert main["modules"]["rbac"]["config"]["params"]["operatorPrincipalId"] == "principalId"
    rbac = parsed("app/rbac.bicep")
    assignments = resource(rbac, "operatorAssignments")
    roles = chosen(
        assignments["loop_type"]["detail"]["array_name"], {"operatorPrincipalId": operator}
    )
    granted = [variable(rbac, name) for name in variable(rbac, "operatorRoles")] if roles else []
    expected = {
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",  # Storage Blob Data Contributor
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",  # Storage Queue Data Contributor
        "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",  # Storage Table Data Contributor
    }
    assert set(granted) == (expected if operator else set())
    assert assignments["config"]["properties"]["principalType"] == "User"
    runbook = (ROOT / "docs" / "RUNBOOK.md").read_text()
    assert "--auth-mode login" in runbook and "--account-key" not in runbook


@pytest.mark.parametrize("vnet", [False, True])
def test_the_storage_network_follows_vnet_enabled(vnet: bool) -> None:
    main = parsed("main.bicep")
    assert main["parameters"]["vnetEnabled"]["default"] is False
    values = {"vnetEnabled": vnet}
    network = main["modules"]["network"]["config"]
    assert network["condition"] == "vnetEnabled"
    storage = resource(parsed("app/storage.bicep"), "storage")["properties"]
    assert chosen(storage["publicNetworkAccess"], values) == ("Disabled" if vnet else "Enabled")
    acls = {k: chosen(v, values) for k, v in storage["networkAcls"].items()}
    assert acls == (
        {"bypass": "None", "defaultAction": "Deny"}
        if vnet
        else {"bypass": "AzureServices", "defaultAction": "Allow"}
    )
    subnet = chosen(main["modules"]["api"]["config"]["params"]["appSubnetId"], values)
    app = resource(parsed("app/api.bicep"), "app")["properties"]
    integrated = chosen(app["virtualNetworkSubnetId"], {"appSubnetId": subnet})
    assert (integrated is not None) is vnet
    # Storage stays reached by identity either way; shared keys stay off.
    assert storage["allowSharedKeyAccess"] is False


def test_with_vnet_the_app_subnet_is_delegated_and_every_storage_service_has_a_private_endpoint() -> (
    None
):
    tree = parsed("app/network.bicep")
    assert set(variable(tree, "services")) == {"blob", "queue", "table"}
    subnets = {s["name"]: s["properties"] for s in resource(tree, "vnet")["properties"]["subnets"]}
    delegation = subnets["app"]["delegations"][0]["properties"]["serviceName"]
    assert delegation == "Microsoft.App/environments"  # what Flex Consumption integrates with
    assert "private-endpoints" in subnets
    for name in ("endpoints", "dnsZones", "dnsLinks", "dnsGroups"):
        assert resource(tree, name)["loop_type"]["detail"]["array_name"] == "services", name
    endpoint = resource(tree, "endpoints")["config"]["properties"]
    assert endpoint["privateLinkServiceConnections"][0]["properties"]["groupIds"] == ["service"]


def test_the_telemetry_exporter_reads_the_entra_authentication_string() -> None:
    """APPLICATIONINSIGHTS_AUTHENTICATION_STRING arrived in the exporter 1.0.0b36: an older
    one drops telemetry with 401s, silently, since local authentication is off."""
    requirements = (ROOT / "requirements.txt").read_text()
    floor = re.search(r"^azure-monitor-opentelemetry-exporter>=1\.0\.0b(\d+)", requirements, re.M)
    assert floor is not None and int(floor.group(1)) >= 36
