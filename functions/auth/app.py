"""Authentication routes: login, logout, refresh, activation."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from keel.auth import service
from keel.auth.models import ActivateRequest, LoginRequest, LogoutOut, SessionOut
from keel.http import create_app, entrypoint, principal, public, request_meta, requires
from keel.http.auth import bearer_token

app = create_app()


@app.post("/auth/login", operation_id="login", middlewares=[public()], tags=["auth"])
def login(body: LoginRequest) -> SessionOut:
    return service.login(body.email, body.password, request_meta(app), remember_me=body.remember_me)


@app.post("/auth/logout", operation_id="logout", middlewares=[requires(None)], tags=["auth"])
def logout() -> LogoutOut:
    service.logout(principal(app), bearer_token(app))
    return LogoutOut()


@app.post("/auth/refresh", operation_id="refresh_session", middlewares=[requires(None)], tags=["auth"])
def refresh() -> SessionOut:
    return service.refresh(principal(app), bearer_token(app))


@app.post("/auth/activate", operation_id="activate_account", middlewares=[public()], tags=["auth"])
def activate(body: ActivateRequest) -> Response[SessionOut]:
    session = service.activate(body.token, body.password, request_meta(app))
    return Response(status_code=200, body=session, content_type="application/json")


lambda_handler = entrypoint(app)
