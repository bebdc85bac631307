"""Payments, billing and subscriptions: gateway events (Stripe, Nomba), payments, refunds,
invoices, a tenant's subscription to a plan of `keel.plans`, reconciliation and gateway status."""
