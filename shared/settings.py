"""Every setting the app reads (app settings in Azure, local.settings.json locally), as one
pydantic-settings object built on first use, and where storage is."""

from dataclasses import dataclass
from datetime import timedelta

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.domain.types import Program

DEVELOPMENT_STORAGE = "UseDevelopmentStorage=true"
STORAGE = "AzureWebJobsStorage"


class StorageMisconfigured(Exception):
    """The storage settings cannot be used here; the message names what is missing."""


@dataclass(frozen=True)
class StorageTarget:
    """Where the app's tables and queues are, and how to sign in to them: a connection
    string, or service endpoints reached with a Microsoft Entra credential
    (`managed_identity` with an optional client id, else DefaultAzureCredential)."""

    connection_string: str | None = None
    table_endpoint: str | None = None
    queue_endpoint: str | None = None
    managed_identity: bool = False
    client_id: str | None = None

    @property
    def uses_credential(self) -> bool:
        return self.connection_string is None


def _is_development_storage(connection: str) -> bool:
    """The emulator shorthand (what an unset setting means locally). An explicit
    connection string is the operator's choice and is used as it is."""
    return "usedevelopmentstorage=true" in connection.replace(" ", "").lower()


def _alias(suffix: str = "") -> AliasChoices:
    return AliasChoices(f"{STORAGE}{suffix}")


class Settings(BaseSettings):
    """Every setting the app reads, from the environment (app settings in Azure,
    local.settings.json Values locally). Built on first use, never at import."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", populate_by_name=True)

    storage_connection: str | None = Field(default=None, validation_alias=_alias())
    storage_account_name: str | None = Field(default=None, validation_alias=_alias("__accountName"))
    storage_table_uri: str | None = Field(
        default=None, validation_alias=_alias("__tableServiceUri")
    )
    storage_queue_uri: str | None = Field(
        default=None, validation_alias=_alias("__queueServiceUri")
    )
    storage_credential: str | None = Field(default=None, validation_alias=_alias("__credential"))
    storage_client_id: str | None = Field(default=None, validation_alias=_alias("__clientId"))

    learn_issuer: str | None = None
    learn_public_key: str | None = None
    partner_university_issuer: str | None = None
    partner_university_public_key: str | None = None
    assertion_audience: str | None = None
    learn_sign_in_url: str | None = None
    partner_university_sign_in_url: str | None = None

    association_max_per_window: int = Field(default=3, ge=1)
    association_window: timedelta = timedelta(days=365)
    association_cool_off: timedelta = timedelta(days=30)
    credit_delay: timedelta = timedelta(days=10)
    expiry_warning: timedelta = timedelta(days=60)
    activity_retention: timedelta = timedelta(days=730)

    website_instance_id: str | None = None
    website_site_name: str | None = None
    website_auth_enabled: str | None = None
    azure_functions_environment: str | None = None

    @field_validator(
        "storage_connection",
        "storage_account_name",
        "storage_table_uri",
        "storage_queue_uri",
        "storage_credential",
        "storage_client_id",
        "learn_issuer",
        "learn_public_key",
        "partner_university_issuer",
        "partner_university_public_key",
        "assertion_audience",
        "learn_sign_in_url",
        "partner_university_sign_in_url",
        "website_instance_id",
        "website_site_name",
        "azure_functions_environment",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator(
        "association_window",
        "association_cool_off",
        "credit_delay",
        "expiry_warning",
        "activity_retention",
    )
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("a policy duration cannot be negative")
        return value

    @property
    def in_azure(self) -> bool:
        """The platform sets these on every App Service and Functions instance."""
        return self.website_instance_id is not None or self.website_site_name is not None

    @property
    def in_local_development(self) -> bool:
        return (self.azure_functions_environment or "").lower() == "development"

    @property
    def is_local_development(self) -> bool:
        """A process that says it is local development, and is not on App Service."""
        return self.in_local_development and not self.in_azure

    @property
    def trusts_principal_header(self) -> bool:
        """Fail closed: the header is trustworthy only behind App Service Authentication
        (which strips any client-sent copy), or in a process that says it is local
        development, outside Azure."""
        if (self.website_auth_enabled or "").strip().lower() == "true":
            return True
        return self.is_local_development

    def storage_target(self) -> StorageTarget:
        """What the Functions host understands for AzureWebJobsStorage: a connection
        string; or `__tableServiceUri` and `__queueServiceUri`; or `__accountName`
        (standard endpoints); with `__credential`=managedidentity and `__clientId`.
        Outside Azure, nothing set means Azurite; in Azure never."""
        if self.storage_connection is not None:
            if self.in_azure and _is_development_storage(self.storage_connection):
                raise StorageMisconfigured(
                    f"{STORAGE} points at development storage, which does not exist in Azure: "
                    f"set {STORAGE}__accountName or {STORAGE}__tableServiceUri and "
                    f"{STORAGE}__queueServiceUri with {STORAGE}__credential."
                )
            return StorageTarget(connection_string=self.storage_connection)
        managed = (self.storage_credential or "").lower() == "managedidentity"
        if self.storage_table_uri or self.storage_queue_uri:
            missing = [
                f"{STORAGE}{suffix}"
                for suffix, value in (
                    ("__tableServiceUri", self.storage_table_uri),
                    ("__queueServiceUri", self.storage_queue_uri),
                )
                if value is None
            ]
            if missing:
                raise StorageMisconfigured(f"{', '.join(missing)} is not set.")
            return StorageTarget(
                table_endpoint=self.storage_table_uri,
                queue_endpoint=self.storage_queue_uri,
                managed_identity=managed,
                client_id=self.storage_client_id,
            )
        if self.storage_account_name is not None:
            account = self.storage_account_name
            return StorageTarget(
                table_endpoint=f"https://{account}.table.core.windows.net",
                queue_endpoint=f"https://{account}.queue.core.windows.net",
                managed_identity=managed,
                client_id=self.storage_client_id,
            )
        if self.in_azure:
            raise StorageMisconfigured(
                f"No storage is set: set {STORAGE}__accountName (or {STORAGE}__tableServiceUri "
                f"and {STORAGE}__queueServiceUri) with {STORAGE}__credential=managedidentity."
            )
        return StorageTarget(connection_string=DEVELOPMENT_STORAGE)

    @property
    def local_connection_string(self) -> str:
        """For development tools that poll queues by connection string."""
        return self.storage_connection or DEVELOPMENT_STORAGE

    def program_issuer(self, program: Program) -> str | None:
        return self.learn_issuer if program == "learn" else self.partner_university_issuer

    def program_sign_in_url(self, program: Program) -> str | None:
        return self.learn_sign_in_url if program == "learn" else self.partner_university_sign_in_url

    def program_public_key(self, program: Program) -> str | None:
        return self.learn_public_key if program == "learn" else self.partner_university_public_key
