"""Cross-cutting pieces: settings, errors, ids, clock, principal, pagination, HTTP glue."""
