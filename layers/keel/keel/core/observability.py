"""Logger, metrics and tracer, configured once (Powertools; settings from POWERTOOLS_* variables).

Log only ids and outcomes: never passwords, tokens, codes, secrets, message bodies or full
phone numbers. Request bodies are not logged (POWERTOOLS_LOGGER_LOG_EVENT=false).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()
