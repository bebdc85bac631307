"""Authentication flows: login, recovery, 2FA enrollment, password policy."""
