"""The HTTP edge of every service: the input boundary, JSON entrypoints and the one
place a refusal becomes a status, who is asking, bearer tokens, rate limits,
idempotent requests, OpenAPI documents and the platform's own endpoints.

Imports ``shared.vocabulary`` and ``shared.runtime``; never ``shared.ops``.
"""
