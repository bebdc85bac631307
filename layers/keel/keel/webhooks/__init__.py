"""Outgoing webhooks: endpoints, Standard Webhooks signing, fan-out, delivery, retries, log and stats."""
