"""Who may see every visitor's labels: the app's owner, who knows the secret set on the server.

The secret comes from the environment (DIGIT_OWNER_SECRET) or `owner_secret` in
.streamlit/secrets.toml. Nothing set, or a secret too short to resist guessing, means
nobody: every visitor then sees only the labels they gave themselves. Wrong guesses are
logged, and guesses limited per visitor and for the whole app (`OwnerGuesses`; counted in
the database for every replica when it is PostgreSQL, see `rate_limit`).
"""

from __future__ import annotations

import hmac
import logging
import math
import os
from collections.abc import Mapping

from feedback.rate_limit import Limits, RateLimited, Window

OWNER_SECRET_VARIABLE = "DIGIT_OWNER_SECRET"
OWNER_SECRET_KEY = "owner_secret"  # its name in secrets.toml
MIN_SECRET_LENGTH = 16
# 5 guesses per visitor in 15 minutes, and 20 for all visitors together, as a script is
# free to come back as a new visitor.
GUESSES = Limits("owner guesses", per_visitor=5, per_server=20, window_s=15 * 60.0)

logger = logging.getLogger(__name__)


def owner_secret(
    environ: Mapping[str, str] | None = None, secrets: Mapping | None = None
) -> str | None:
    """The owner's secret: the environment first, then secrets.toml; None when none is usable."""
    environ = os.environ if environ is None else environ
    secret = environ.get(OWNER_SECRET_VARIABLE)
    if not secret and secrets is not None:
        try:
            secret = secrets.get(OWNER_SECRET_KEY)
        except FileNotFoundError:  # st.secrets without a secrets.toml
            secret = None
    if not secret:
        return None
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        logger.warning(
            "The owner secret is ignored: it must be text of at least %d characters.",
            MIN_SECRET_LENGTH,
        )
        return None
    return secret


def is_owner(attempt: str, secret: str | None) -> bool:
    """Whether what a visitor typed is the owner's secret (compared in constant time)."""
    if secret is None or not attempt:
        return False
    return hmac.compare_digest(attempt.encode(), secret.encode())


class OwnerGuesses:
    """Checks typed secrets against the owner's, counting guesses per visitor and for the
    whole app in `window` (see `rate_limit.window_for`); past either limit every guess,
    the right one too, is refused until the window moves on. Wrong guesses are logged."""

    def __init__(self, window: Window) -> None:
        self._guesses = window

    def check(self, attempt: str, secret: str | None, session_id: str) -> bool:
        """Whether the attempt is the owner's secret; RateLimited after too many guesses,
        StorageUnavailable when the window's database fails."""
        reached = self._guesses.admit(session_id)
        if reached is not None:
            minutes = math.ceil(reached.wait_s / 60)
            whose = "from this browser" if reached.by_visitor else "for the whole app"
            raise RateLimited(
                f"Too many guesses of the owner secret {whose}. Try again in {minutes} min.",
                reached.wait_s,
            )
        if is_owner(attempt, secret):
            return True
        logger.warning("A wrong owner secret was typed by visitor %s.", session_id[:8])
        return False
