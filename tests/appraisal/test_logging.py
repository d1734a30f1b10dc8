"""Rater tokens never reach a log line, in Django's logs or gunicorn's access log."""

import logging

from appraisal.gunicorn_logging import RedactingLogger
from appraisal.logging import RedactRaterTokens, redact

TOKEN = "k3j9q2x8m4n7p5r6s1t0v2w3yz"


def test_redact_removes_tokens_from_paths_and_headers():
    assert TOKEN not in redact(f"GET /r/{TOKEN}/p/12/ HTTP/1.1")
    assert TOKEN not in redact(f"Authorization: Rater {TOKEN}")
    assert redact("GET /api/v1/meetings/1/results") == "GET /api/v1/meetings/1/results"


def test_logging_filter_rewrites_the_record():
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, '"GET /r/%s/ HTTP/1.1" 200', (TOKEN,), None)

    RedactRaterTokens().filter(record)

    assert TOKEN not in record.getMessage()


def test_gunicorn_access_log_atoms_redacted():
    class Config:
        access_log_format = '%(h)s "%(r)s" %(s)s'
        errorlog = "-"
        loglevel = "info"
        accesslog = "-"
        syslog = False
        capture_output = False
        logconfig = None
        logconfig_dict = {}
        logconfig_json = None
        disable_redirect_access_to_syslog = False
        user = None
        group = None
        umask = 0

        @property
        def env(self):
            return {}

    class Request:
        method, path, query, uri, version = "GET", f"/r/{TOKEN}/", "", f"/r/{TOKEN}/", (1, 1)
        headers = [("AUTHORIZATION", f"Rater {TOKEN}")]

    class Response:
        status, sent, response_length, headers = "200 OK", 10, 10, []

    environ = {
        "REMOTE_ADDR": "10.0.0.1",
        "RAW_URI": f"/r/{TOKEN}/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/r/{TOKEN}/",
        "QUERY_STRING": "",
    }
    import datetime

    logger = RedactingLogger.__new__(RedactingLogger)
    logger.cfg = Config()
    atoms = logger.atoms(Response(), Request(), environ, datetime.timedelta(seconds=0.01))

    assert all(TOKEN not in str(value) for value in atoms.values()), atoms
