"""Roles: built-in ones from code, custom ones per tenant from the table."""
