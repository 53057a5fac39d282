from datetime import timedelta

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.wire import Program

DEVELOPMENT_STORAGE = "UseDevelopmentStorage=true"


class Settings(BaseSettings):
    """Every setting the app reads, from the environment (app settings in Azure,
    local.settings.json Values locally). Built on first use, never at import."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", populate_by_name=True)

    storage_connection: str = Field(
        default=DEVELOPMENT_STORAGE, validation_alias=AliasChoices("AzureWebJobsStorage")
    )
    storage_account_name: str | None = Field(
        default=None, validation_alias=AliasChoices("AzureWebJobsStorage__accountName")
    )

    learn_issuer: str | None = None
    learn_public_key: str | None = None
    partner_university_issuer: str | None = None
    partner_university_public_key: str | None = None
    assertion_audience: str | None = None

    association_max_per_window: int = Field(default=3, ge=1)
    association_window: timedelta = timedelta(days=365)
    association_cool_off: timedelta = timedelta(days=30)
    credit_delay: timedelta = timedelta(days=10)

    website_instance_id: str | None = None
    website_auth_enabled: str | None = None

    @field_validator(
        "learn_issuer",
        "learn_public_key",
        "partner_university_issuer",
        "partner_university_public_key",
        "assertion_audience",
        "storage_account_name",
        "website_instance_id",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("association_window", "association_cool_off", "credit_delay")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("a policy duration cannot be negative")
        return value

    @property
    def trusts_principal_header(self) -> bool:
        """In Azure the header is only trustworthy behind App Service Authentication,
        which strips any client-sent copy; elsewhere (local runs) it is passed through."""
        if self.website_instance_id is None:
            return True
        return (self.website_auth_enabled or "").strip().lower() == "true"

    def program_issuer(self, program: Program) -> str | None:
        return self.learn_issuer if program == "learn" else self.partner_university_issuer

    def program_public_key(self, program: Program) -> str | None:
        return self.learn_public_key if program == "learn" else self.partner_university_public_key
