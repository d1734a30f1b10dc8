"""Logging filter that keeps rater tokens out of every log line."""

import logging
import re

# Rater links are /r/<token>/ and the API sends "Authorization: Rater <token>".
_RATER_PATH = re.compile(r"(/r/)[A-Za-z0-9_-]{8,}")
_RATER_HEADER = re.compile(r"(Rater\s+)[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    text = _RATER_PATH.sub(r"\1[redacted]", text)
    return _RATER_HEADER.sub(r"\1[redacted]", text)


class RedactRaterTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
