"""Security routes: tenant settings, password-policy preview, forced resets, sessions, lockouts,
2FA resets and suspicious activity."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.auth import enrollment, recovery
from keel.auth.models import Done
from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, requires
from keel.http.params import Cursor, Limit, TenantParam
from keel.security import lockout_admin, sessions_admin, suspicious
from keel.security import service as security
from keel.security.models import (
    ImpersonationSettings,
    IpAllowlist,
    PasswordPolicy,
    PolicyPreview,
    SessionSettings,
    TwoFactorSettings,
)

app = create_app()
READ, MANAGE = Permission.SECURITY_READ, Permission.SECURITY_MANAGE


@app.get(
    "/security/password-policy",
    operation_id="get_password_policy",
    middlewares=[requires(READ)],
    tags=["security"],
)
def get_password_policy(tenant_id: TenantParam = None) -> PasswordPolicy:
    return security.read(principal(app), "password_policy", tenant_id)


@app.put(
    "/security/password-policy",
    operation_id="update_password_policy",
    middlewares=[requires(MANAGE)],
    tags=["security"],
)
def update_password_policy(body: PasswordPolicy, tenant_id: TenantParam = None) -> PasswordPolicy:
    return security.update(principal(app), "password_policy", body, tenant_id)


@app.post(
    "/security/password-policy/preview",
    operation_id="preview_password_policy",
    middlewares=[requires(READ)],
    tags=["security"],
)
def preview_password_policy(body: PasswordPolicy, tenant_id: TenantParam = None) -> PolicyPreview:
    return security.preview_policy(principal(app), body, tenant_id)


@app.post(
    "/security/force-password-reset",
    operation_id="force_password_reset",
    middlewares=[requires(MANAGE)],
    tags=["security"],
)
def force_password_reset(body: recovery.ForceResetIn) -> recovery.ForceResetOut:
    return recovery.force_reset(principal(app), body)


@app.get(
    "/security/2fa-settings", operation_id="get_2fa_settings", middlewares=[requires(READ)], tags=["security"]
)
def get_2fa_settings(tenant_id: TenantParam = None) -> TwoFactorSettings:
    return security.read(principal(app), "two_factor", tenant_id)


@app.put(
    "/security/2fa-settings",
    operation_id="update_2fa_settings",
    middlewares=[requires(MANAGE)],
    tags=["security"],
)
def update_2fa_settings(body: TwoFactorSettings, tenant_id: TenantParam = None) -> TwoFactorSettings:
    return security.update(principal(app), "two_factor", body, tenant_id)


@app.get(
    "/security/session-settings",
    operation_id="get_session_settings",
    middlewares=[requires(READ)],
    tags=["security"],
)
def get_session_settings(tenant_id: TenantParam = None) -> SessionSettings:
    return security.read(principal(app), "sessions", tenant_id)


@app.put(
    "/security/session-settings",
    operation_id="update_session_settings",
    middlewares=[requires(MANAGE)],
    tags=["security"],
)
def update_session_settings(body: SessionSettings, tenant_id: TenantParam = None) -> SessionSettings:
    return security.update(principal(app), "sessions", body, tenant_id)


@app.get(
    "/security/ip-allowlist", operation_id="get_ip_allowlist", middlewares=[requires(READ)], tags=["security"]
)
def get_ip_allowlist(tenant_id: TenantParam = None) -> IpAllowlist:
    return security.read(principal(app), "ip_allowlist", tenant_id)


@app.put(
    "/security/ip-allowlist",
    operation_id="update_ip_allowlist",
    middlewares=[requires(MANAGE)],
    tags=["security"],
)
def update_ip_allowlist(body: IpAllowlist, tenant_id: TenantParam = None) -> IpAllowlist:
    return security.update(principal(app), "ip_allowlist", body, tenant_id)


@app.get(
    "/security/impersonation-settings",
    operation_id="get_impersonation_settings",
    middlewares=[requires(READ)],
    tags=["security"],
)
def get_impersonation_settings(tenant_id: TenantParam = None) -> ImpersonationSettings:
    return security.read(principal(app), "impersonation", tenant_id)


@app.put(
    "/security/impersonation-settings",
    operation_id="update_impersonation_settings",
    middlewares=[requires(MANAGE)],
    tags=["security"],
)
def update_impersonation_settings(
    body: ImpersonationSettings, tenant_id: TenantParam = None
) -> ImpersonationSettings:
    return security.update(principal(app), "impersonation", body, tenant_id)


@app.get(
    "/security/suspicious-activity",
    operation_id="list_suspicious_activity",
    middlewares=[requires(READ)],
    tags=["security"],
)
def list_suspicious_activity(
    tenant_id: TenantParam = None,
    kind: Annotated[suspicious.Kind | None, Query()] = None,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[suspicious.SuspiciousActivity]:
    return suspicious.list_findings(
        principal(app), tenant_id=tenant_id, kind=kind, user_id=user_id, limit=limit, cursor=cursor
    )


@app.get(
    "/sessions", operation_id="list_sessions", middlewares=[requires(Permission.PROFILE)], tags=["sessions"]
)
def list_sessions(
    tenant_id: TenantParam = None,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[sessions_admin.SessionInfo]:
    return sessions_admin.list_sessions(
        principal(app), tenant_id=tenant_id, user_id=user_id, limit=limit, cursor=cursor
    )


@app.post(
    "/sessions/<session_id>/terminate",
    operation_id="terminate_session",
    middlewares=[requires(Permission.PROFILE)],
    tags=["sessions"],
)
def terminate_session(
    session_id: str, body: sessions_admin.TerminateIn, tenant_id: TenantParam = None
) -> sessions_admin.TerminatedOut:
    return sessions_admin.terminate(principal(app), session_id, body.reason, tenant_id)


@app.post(
    "/sessions/terminate",
    operation_id="terminate_sessions",
    middlewares=[requires(Permission.SESSIONS_MANAGE)],
    tags=["sessions"],
)
def terminate_sessions(body: sessions_admin.TerminateManyIn) -> sessions_admin.TerminatedOut:
    return sessions_admin.terminate_many(principal(app), body)


@app.post(
    "/users/<user_id>/unlock", operation_id="unlock_user", middlewares=[requires(MANAGE)], tags=["security"]
)
def unlock_user(user_id: str, tenant_id: TenantParam = None) -> lockout_admin.UnlockOut:
    return lockout_admin.unlock(principal(app), user_id, tenant_id)


@app.post(
    "/users/<user_id>/2fa/reset",
    operation_id="reset_user_2fa",
    middlewares=[requires(MANAGE)],
    tags=["security"],
)
def reset_user_2fa(user_id: str, tenant_id: TenantParam = None) -> Done:
    return enrollment.reset_user(principal(app), user_id, tenant_id)


@app.post(
    "/users/<user_id>/password-reset",
    operation_id="admin_reset_password",
    middlewares=[requires(MANAGE)],
    tags=["security"],
)
def admin_reset_password(user_id: str, body: recovery.AdminResetIn, tenant_id: TenantParam = None) -> Done:
    return recovery.admin_reset(principal(app), user_id, body, tenant_id)


lambda_handler = entrypoint(app)
