"""Authentication routes: login (with 2FA), logout, refresh, activation, passwords, 2FA enrolment."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)
from keel.core.coldstart import before_snapshot

from aws_lambda_powertools.event_handler import Response

from keel.auth import enrollment, recovery, service
from keel.auth.models import (
    Accepted,
    ActivateRequest,
    BackupCodesOut,
    ChangePasswordIn,
    ConfirmIn,
    ConfirmOut,
    Done,
    EmailIn,
    EnrollIn,
    EnrollOut,
    LoginIn,
    LoginOut,
    LogoutOut,
    ResetPasswordIn,
    SessionOut,
    VerifyIn,
)
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, public, request_meta, requires
from keel.http.auth import bearer_token
from keel.identity import passwords

app = create_app()
before_snapshot(passwords.hasher)  # SnapStart: argon2 loaded before the snapshot, not by the first login


@app.post("/auth/login", operation_id="login", middlewares=[public(secret=True)], tags=["auth"])
def login(body: LoginIn) -> LoginOut:
    return service.login(
        body.email,
        body.password,
        request_meta(app),
        remember_me=body.remember_me,
        method=body.two_factor_method,
    )


@app.post("/auth/2fa/verify", operation_id="verify_2fa", middlewares=[public(secret=True)], tags=["auth"])
def verify_2fa(body: VerifyIn) -> LoginOut:
    return service.verify_2fa(body.challenge_token, body.code, body.method, request_meta(app))


@app.post("/auth/logout", operation_id="logout", middlewares=[requires(None)], tags=["auth"])
def logout() -> LogoutOut:
    service.logout(principal(app), bearer_token(app))
    return LogoutOut()


@app.post(
    "/auth/refresh", operation_id="refresh_session", middlewares=[requires(None, secret=True)], tags=["auth"]
)
def refresh() -> SessionOut:
    return service.refresh(principal(app), bearer_token(app))


@app.post("/auth/activate", operation_id="activate_account", middlewares=[public(secret=True)], tags=["auth"])
def activate(body: ActivateRequest) -> Response[LoginOut]:
    session = service.activate(body.token, body.password, request_meta(app))
    return Response(status_code=200, body=session, content_type="application/json")


@app.post("/auth/activation/resend", operation_id="resend_activation", middlewares=[public()], tags=["auth"])
def resend_activation(body: EmailIn) -> Response[Accepted]:
    out = recovery.resend_activation(str(body.email), request_meta(app))
    return Response(status_code=202, body=out, content_type="application/json")


@app.post(
    "/auth/password/forgot", operation_id="request_password_reset", middlewares=[public()], tags=["auth"]
)
def request_password_reset(body: EmailIn) -> Response[Accepted]:
    out = recovery.request_reset(str(body.email), request_meta(app))
    return Response(status_code=202, body=out, content_type="application/json")


@app.post("/auth/password/reset", operation_id="reset_password", middlewares=[public()], tags=["auth"])
def reset_password(body: ResetPasswordIn) -> Done:
    return recovery.reset(body.token, body.new_password, request_meta(app))


@app.post(
    "/auth/password/change",
    operation_id="change_password",
    middlewares=[requires(Permission.PROFILE)],
    tags=["auth"],
)
def change_password(body: ChangePasswordIn) -> Done:
    return recovery.change_password(principal(app), body.current_password, body.new_password)


@app.post(
    "/auth/2fa/enroll",
    operation_id="enroll_2fa",
    middlewares=[requires(Permission.PROFILE, secret=True)],
    tags=["auth"],
)
def enroll_2fa(body: EnrollIn) -> EnrollOut:
    return enrollment.enroll(principal(app), body.method, body.phone)


@app.post(
    "/auth/2fa/confirm",
    operation_id="confirm_2fa_enrollment",
    middlewares=[requires(Permission.PROFILE, secret=True)],
    tags=["auth"],
)
def confirm_2fa_enrollment(body: ConfirmIn) -> ConfirmOut:
    return enrollment.confirm(principal(app), body.method, body.code)


@app.post(
    "/auth/2fa/backup-codes",
    operation_id="generate_backup_codes",
    middlewares=[requires(Permission.PROFILE, secret=True)],
    tags=["auth"],
)
def generate_backup_codes() -> BackupCodesOut:
    return enrollment.backup_codes(principal(app))


lambda_handler = entrypoint(app)
