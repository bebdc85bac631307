"""Authentication: passwords, sessions, one-time links, login."""
