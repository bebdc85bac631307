"""Invitations: an e-mailed, expiring link that creates an account in the inviting tenant."""
