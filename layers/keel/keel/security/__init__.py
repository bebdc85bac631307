"""Tenant security: settings (password policy, 2FA, sessions, IP allowlist, impersonation),
lockout, suspicious-activity detection, session administration and impersonation."""
