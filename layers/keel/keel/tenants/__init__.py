"""Tenants: the customer organisations (pharmacy, practice, studio), their plan and limits."""
