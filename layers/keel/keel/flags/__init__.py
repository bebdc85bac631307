"""Feature flags: platform-managed flags, targeting, sticky rollouts, evaluation (and OFREP), history,
metrics and scheduled changes. `engine` is pure (no AWS); `cache` keeps the compiled set per container."""
