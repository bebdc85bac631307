"""Demo data for the local stack: the super admin, a demo pharmacy, and a ready admin token."""

from __future__ import annotations

from typing import Any

ADMIN_EMAIL = "admin@keel.example.com"
ADMIN_PASSWORD = "keel-local-admin-2026"  # local stack only; deployed stacks use `make bootstrap`
DEMO_TENANT_ID = "ten_demo_pharmacy"


def seed_demo(api_url: str) -> dict[str, Any]:
    from keel.auth import service as auth
    from keel.core.permissions import TenantKind
    from keel.core.principal import RequestMeta
    from keel.tenants import repo as tenants
    from keel.tenants import service as tenant_service
    from keel.tenants.models import AdminIn, TenantCreate
    from keel.users.bootstrap import create_super_admin

    create_super_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
    meta = RequestMeta(ip="127.0.0.1", user_agent="keel-seed", request_id="seed")
    session = auth.login(ADMIN_EMAIL, ADMIN_PASSWORD, meta)
    assert session.token, "the seeded admin has no 2FA: login gives a session"
    if tenants.for_tenant(DEMO_TENANT_ID).get() is None:
        from keel.identity.sessions import load, principal_of

        admin = principal_of(load(session.token), meta)
        tenant_service.create(
            admin,
            TenantCreate(
                name="Demo Pharmacy",
                plan="growth",
                kind=TenantKind.PHARMACY,
                admin=AdminIn(email="manager@demo-pharmacy.example.com", name="Dana Manager"),
            ),
            tenant_id=DEMO_TENANT_ID,
        )
    return {
        "api_url": api_url,
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "admin_token": session.token,
        "demo_tenant_id": DEMO_TENANT_ID,
    }
