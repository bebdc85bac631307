"""The event pipeline: publishing outbox events and consuming them exactly once per consumer."""
