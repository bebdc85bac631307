"""Reading the audit log (writing is keel.store.audit, inside each change's transaction)."""
