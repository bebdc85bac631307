"""Logger, metrics and tracer, configured once (Powertools; settings from POWERTOOLS_* variables).

Log only ids and outcomes: never passwords, tokens, codes, secrets, message bodies or full
phone numbers. Request bodies are not logged (POWERTOOLS_LOGGER_LOG_EVENT=false).

The tracer patches botocore only: the AWS calls are what we trace, and patching every library
X-Ray supports would import requests, sqlite3 and more into every cold start.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

TRACED_MODULES = ("botocore",)

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=TRACED_MODULES)
