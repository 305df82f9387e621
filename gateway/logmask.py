"""Secrets masked in what is logged: the `token=` of a URL's query, in any log line.

Africa's Talking passes our webhook token in the callback URL's query (its design), so an
access-log line or a message quoting a URL would print it. `MaskSecrets` is a logging
filter installed on the handlers at each entry point and on gunicorn's loggers.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
# token=… up to the next separator of a query, in a URL as sent or percent-encoded.
_TOKEN = re.compile(r"(?i)((?:^|[?&;\s\"']|%3F|%26)token(?:=|%3D))[^&;\s\"']*")


def mask_secrets(text: str) -> str:
    """Return `text` with the value of every `token=` replaced by ***."""
    return _TOKEN.sub(lambda match: match.group(1) + MASK, text)


class MaskSecrets(logging.Filter):
    """A logging filter that masks `token=` values in each record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Mask secrets on every handler of `logger` (default: the root logger), and on it."""
    logger = logger or logging.getLogger()
    for target in [logger, *logger.handlers]:
        if not any(isinstance(f, MaskSecrets) for f in target.filters):
            target.addFilter(MaskSecrets())
