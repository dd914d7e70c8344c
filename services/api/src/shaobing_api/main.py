"""Composition root of the api: `python -m shaobing_api`."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI

from shaobing_contracts.enrolment import Enrolment
from shaobing_rules.files import RuleFiles
from shaobing_runtime import audit as audit_trail
from shaobing_runtime.logging import configure_logging
from shaobing_runtime.service_app import create_publishing_app

from .alerts import pages as alert_pages
from .alerts import queue
from .alerts import routes as alerts
from .alerts import steps as alert_steps
from .audit import anchoring
from .audit import routes as audit
from .business_metrics import collector
from .common import site
from .common.http_refusals import install_refusals
from .config import ApiSettings
from .enrolments import routes as enrolments
from .notifications import pages as notification_pages
from .notifications import routes as notifications
from .payout_runs import execution as payout_execution
from .payout_runs import pages as payout_pages
from .payout_runs import routes as payout_runs
from .rules import routes as rules


def create_app(settings: ApiSettings) -> FastAPI:
    audit_trail.use_keyring(settings.keyring())
    app = create_publishing_app(
        "Shaobing api",
        settings,
        service="api",
        routers=[
            enrolments.router,
            alert_steps.router,
            queue.router,  # before alerts: /v1/alerts/queue is no alert id
            alerts.router,
            notifications.router,
            audit.router,
            rules.router,
            payout_runs.router,
            payout_pages.router,
            site.router,
            alert_pages.router,
            notification_pages.router,
        ],
        description="Enrolments, the alert queue (电子哨兵), the rules in force, payout runs "
        "and the pages.",
        background=(
            payout_execution.watch_stalled,
            collector.refresh_forever,
            anchoring.anchor_forever,
        ),
        body_caps={("POST", "/v1/enrolments"): settings.max_enrolment_body_bytes},
    )
    install_refusals(app)
    app.state.payout_tasks = set()
    app.state.rules = RuleFiles(settings.rules_dir)
    _document_enrolment_schema(app)
    return app


def _document_enrolment_schema(app: FastAPI) -> None:
    """The enrolment body is validated per item, so its schema is added to OpenAPI by hand."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            definitions = Enrolment.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(definitions.pop("$defs", {}))
            components["Enrolment"] = definitions
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


def main() -> None:
    settings = ApiSettings()
    configure_logging("api", settings.log_level)
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
