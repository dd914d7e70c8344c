"""The matcher's HTTP pages (faust web): health, readiness, metrics, the daily tick on demand."""

from __future__ import annotations

from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shaobing_runtime.access import Role
from shaobing_runtime.tokens import InvalidToken, principal_from

from ..main import app, run_sweep, settings, unready


@app.page("/healthz")
async def healthz(web, request):
    return web.json({"status": "ok"})


@app.page("/readyz")
async def readyz(web, request):
    failures = unready()
    if failures:
        return web.json({"status": "unavailable", "failures": failures}, status=503)
    return web.json({"status": "ready"})


@app.page("/metrics")
async def metrics(web, request):
    return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])


@app.page("/v1/daily-tick")
class DailyTick(View):
    async def post(self, request: Request) -> Response:
        """Run the daily sweep of the rules and policies now (roles ops, admin); idempotent.
        `?resend=true` sends every alert, withdrawal and notification that holds again, for a
        downstream restored from a backup."""
        header = request.headers.get("authorization", "")
        try:
            principal = principal_from(header.removeprefix("Bearer ").strip(), settings)
        except InvalidToken as exc:
            return self.json({"detail": f"invalid token: {exc}"}, status=401)
        if principal.role not in (Role.OPS, Role.ADMIN):
            return self.json({"detail": f"role {principal.role} may not do this"}, status=403)
        resend = request.query.get("resend", "false").lower()
        if resend not in ("true", "false"):
            return self.json({"detail": f"resend: true or false, not {resend!r}"}, status=422)
        return self.json({"messages": await run_sweep(resend=resend == "true")})
