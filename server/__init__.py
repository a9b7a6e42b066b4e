"""What the server adds beside the page: the HTTP API and its OpenAPI document (`openapi`),
the served model, the readiness check, security headers, deadlines for slow clients, requests
with two body lengths refused (`request_framing`), cache clearing kept to a developer's page
(`cache_clearing`), the visitor cookie, whole runs for a page that reconnected after a
failover, and a log line naming the replica each session runs on (`session_log`).

Uses `reading`, `feedback` and `digit_model`; never `tabs`. Only `webapp.py` imports it.
"""
