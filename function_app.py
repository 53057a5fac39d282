"""The Functions host indexes this app. Importing it must stay cheap and must never
touch settings or storage: a failed import hides every function."""

import azure.functions as func

from credit_processor import bp as credit_processor_bp
from health_function import bp as health_bp
from link_function import bp as link_bp
from monthly_refresh import bp as monthly_refresh_bp
from openapi_function import bp as openapi_bp
from operations_function import bp as operations_bp
from org_users_function import bp as org_users_bp
from portal_function import bp as portal_bp
from reconciler_function import bp as reconciler_bp
from reports_function import bp as reports_bp
from unlink_function import bp as unlink_bp
from webhooks_function import bp as webhooks_bp

BLUEPRINTS = (
    link_bp,
    unlink_bp,
    org_users_bp,
    credit_processor_bp,
    reports_bp,
    monthly_refresh_bp,
    openapi_bp,
    health_bp,
    webhooks_bp,
    operations_bp,
    portal_bp,
    reconciler_bp,
)


def create_app() -> func.FunctionApp:
    """A fresh app with every blueprint; its HTTP functions default to anonymous
    (App Service Authentication in front decides who gets in)."""
    created = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    for blueprint in BLUEPRINTS:
        created.register_functions(blueprint)
    return created


app = create_app()
