"""Which storage endpoint and credential the app builds in each environment, and
that it fails closed: Azure with development storage, or without App Service
Authentication, never serves."""

from typing import Any

import pytest

from shared.adapters.tables import make_credential
from shared.settings import DEVELOPMENT_STORAGE, Settings, StorageMisconfigured, StorageTarget

AZURE = {"WEBSITE_INSTANCE_ID": "abc123", "WEBSITE_SITE_NAME": "skills-link"}
IDENTITY = {
    "AzureWebJobsStorage__credential": "managedidentity",
    "AzureWebJobsStorage__clientId": "client-1",
}
ENVIRONMENT = (
    "AzureWebJobsStorage",
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__tableServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "WEBSITE_INSTANCE_ID",
    "WEBSITE_SITE_NAME",
    "WEBSITE_AUTH_ENABLED",
    "AZURE_FUNCTIONS_ENVIRONMENT",
)


def settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, StorageTarget(connection_string=DEVELOPMENT_STORAGE)),
        (
            {"AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k"},
            StorageTarget(
                connection_string="DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k"
            ),
        ),
        (
            {"AzureWebJobsStorage__accountName": "skillslink", **IDENTITY, **AZURE},
            StorageTarget(
                table_endpoint="https://skillslink.table.core.windows.net",
                queue_endpoint="https://skillslink.queue.core.windows.net",
                managed_identity=True,
                client_id="client-1",
            ),
        ),
        (
            {
                "AzureWebJobsStorage__tableServiceUri": "https://s.table.core.windows.net",
                "AzureWebJobsStorage__queueServiceUri": "https://s.queue.core.windows.net",
                "AzureWebJobsStorage__blobServiceUri": "https://s.blob.core.windows.net",
                "AzureWebJobsStorage__credential": "managedidentity",
                **AZURE,
            },
            StorageTarget(
                table_endpoint="https://s.table.core.windows.net",
                queue_endpoint="https://s.queue.core.windows.net",
                managed_identity=True,
            ),
        ),
        (
            {"AzureWebJobsStorage__accountName": "skillslink"},
            StorageTarget(
                table_endpoint="https://skillslink.table.core.windows.net",
                queue_endpoint="https://skillslink.queue.core.windows.net",
            ),
        ),
    ],
    ids=["local-default", "connection-string", "account-name-user-assigned", "uris-system", "dac"],
)
def test_storage_settings_resolve_as_the_functions_host_reads_them(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], expected: StorageTarget
) -> None:
    assert settings(monkeypatch, **values).storage_target() == expected


@pytest.mark.parametrize(
    ("values", "names"),
    [
        (AZURE, "AzureWebJobsStorage__accountName"),
        ({"AzureWebJobsStorage": "UseDevelopmentStorage=true", **AZURE}, "development storage"),
        ({"WEBSITE_SITE_NAME": "skills-link"}, "No storage is set"),
        (
            {"AzureWebJobsStorage__tableServiceUri": "https://s.table.core.windows.net"},
            "AzureWebJobsStorage__queueServiceUri",
        ),
    ],
    ids=["azure-nothing-set", "azure-development-storage", "site-name-only", "queue-uri-missing"],
)
def test_storage_settings_that_cannot_work_are_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], names: str
) -> None:
    with pytest.raises(StorageMisconfigured) as refused:
        settings(monkeypatch, **values).storage_target()
    assert names in str(refused.value)


def test_the_credential_is_the_named_managed_identity_else_default_azure_credential(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import azure.identity

    made: list[tuple[str, Any]] = []
    monkeypatch.setattr(
        azure.identity, "ManagedIdentityCredential", lambda **kw: made.append(("mi", kw))
    )
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", lambda: made.append(("dac", {})))
    make_credential(
        StorageTarget(table_endpoint="t", queue_endpoint="q", managed_identity=True, client_id="c")
    )
    make_credential(StorageTarget(table_endpoint="t", queue_endpoint="q", managed_identity=True))
    make_credential(StorageTarget(table_endpoint="t", queue_endpoint="q"))
    assert made == [("mi", {"client_id": "c"}), ("mi", {"client_id": None}), ("dac", {})]


@pytest.mark.parametrize(
    ("values", "trusted"),
    [
        ({}, False),
        ({"AZURE_FUNCTIONS_ENVIRONMENT": "Development"}, True),
        ({"AZURE_FUNCTIONS_ENVIRONMENT": "Production"}, False),
        ({"AZURE_FUNCTIONS_ENVIRONMENT": "Development", **AZURE}, False),
        ({"WEBSITE_AUTH_ENABLED": "False", **AZURE}, False),
        ({"WEBSITE_AUTH_ENABLED": "True", **AZURE}, True),
        ({"WEBSITE_AUTH_ENABLED": "true"}, True),
    ],
    ids=[
        "nothing",
        "local-dev",
        "production",
        "dev-in-azure",
        "azure-auth-off",
        "azure-auth",
        "auth",
    ],
)
def test_the_principal_header_is_trusted_only_behind_app_service_auth_or_in_local_development(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], trusted: bool
) -> None:
    assert settings(monkeypatch, **values).trusts_principal_header is trusted


def test_azure_with_development_storage_answers_503_and_never_touches_storage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared import bootstrap

    configured = settings(monkeypatch, WEBSITE_AUTH_ENABLED="True", **AZURE)
    runtime = bootstrap.Runtime(configured)
    with pytest.raises(Exception) as refused:
        runtime.tables.table("learners")
    assert getattr(refused.value, "code", None) == "service_misconfigured"
