"""Create the first super admin of a deployed stack.

    TABLE_NAME=<table> AWS_PROFILE=... python -m infra.bootstrap --email ops@example.com

The password is read from the KEEL_ADMIN_PASSWORD variable or asked for (never an argument, so it
stays out of shell history).
"""

from __future__ import annotations

import argparse
import getpass
import os

from infra.apps import ensure_paths


def main() -> int:
    ensure_paths()
    from keel.users.bootstrap import create_super_admin

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", default="Platform Admin")
    args = parser.parse_args()
    password = os.environ.get("KEEL_ADMIN_PASSWORD") or getpass.getpass("Password for the super admin: ")
    user = create_super_admin(args.email, password, args.name)
    print(f"super admin {user.email} ({user.user_id}) is ready in tenant {user.tenant_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
