"""Health of the dependencies and the error catalogue."""
