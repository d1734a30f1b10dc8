"""gunicorn's access log, with rater tokens redacted like every other log line."""

from gunicorn.glogging import Logger

from appraisal.logging import redact


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
