"""Users: profile, role, status, credentials."""
