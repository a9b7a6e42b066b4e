"""Who gives a label: a random visitor id that the browser keeps in a cookie for a year.

Labels are kept under a hash of it, so a person's labels stay theirs across reloads and the
replicas of a scaled-out app, and a drawing saved again after a move to another replica is
recognised as saved (a drawing's id hashes whose it is, see `labels.validate_label`). The
server sets the cookie on the page (`server/visitor_cookie.py`); the page reads it back.
"""

from __future__ import annotations

import hashlib
import re
import secrets

VISITOR_COOKIE = "digit_visitor"
VISITOR_MAX_AGE_S = 365 * 24 * 60 * 60
_VISITOR_ID = re.compile(r"[0-9a-f]{32}")


def new_visitor_id() -> str:
    """A fresh visitor id: 128 random bits as 32 hex digits, which nobody can guess."""
    return secrets.token_hex(16)


def labels_id(visitor_id: str) -> str:
    """The id a visitor's labels are kept under: a hash of the visitor id, so that what the
    database, its exports and the logs hold cannot be used as the cookie."""
    return hashlib.sha256(f"{VISITOR_COOKIE}:{visitor_id}".encode()).hexdigest()[:32]


def is_visitor_id(value: object) -> bool:
    """Whether a cookie's value is a visitor id as `new_visitor_id` makes them."""
    return isinstance(value, str) and _VISITOR_ID.fullmatch(value) is not None
