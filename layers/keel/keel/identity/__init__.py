"""Identity primitives: tokens, sessions, one-time links, password hashing, 2FA secrets."""
