"""What the server adds beside the page: the HTTP API, the served model, the readiness check,
security headers, deadlines for slow clients, the visitor cookie, and whole runs for a page
that reconnected after a failover.

Uses `reading`, `feedback` and `digit_model`; never `tabs`. Only `webapp.py` imports it.
"""
