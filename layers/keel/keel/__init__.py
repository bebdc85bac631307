"""Keel's domain library, shipped to every function as a Lambda layer."""

import keel.core.coldstart  # noqa: F401  (in Lambda: no cyclic GC until the function is initialised)
