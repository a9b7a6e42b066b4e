"""What the server adds beside the page: the HTTP API, the served model, the readiness check,
security headers.

Uses `reading`, `feedback` and `digit_model`; never `tabs`. Only `webapp.py` imports it.
"""
