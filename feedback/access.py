"""Who may see every visitor's labels: the app's owner, who knows the secret set on the server.

The secret comes from the environment (DIGIT_OWNER_SECRET) or `owner_secret` in
.streamlit/secrets.toml. Nothing set, or a secret too short to resist guessing, means
nobody: every visitor then sees only the labels they gave themselves.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Mapping

OWNER_SECRET_VARIABLE = "DIGIT_OWNER_SECRET"
OWNER_SECRET_KEY = "owner_secret"  # its name in secrets.toml
MIN_SECRET_LENGTH = 16

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
