"""Plans: what a tenant pays for, its limits (users, ...) and included features.

The one place that says what a plan allows: `create_user` enforces its user limit (through the
tenant's `limits`, kept in step by the billing area) and flag targeting by plan reads its ids and
features from here.
"""
