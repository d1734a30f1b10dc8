# gunicorn reads this file from the working directory (the demo, docker-compose, the benchmarks).
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Sync workers measured best against PostgreSQL on 2 cores (BENCHMARKS.md); the SQLite demo passes --threads 8.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# The rater links carry the seat's token: the access log goes through a redacting logger.
logger_class = "appraisal.gunicorn_logging.RedactingLogger"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log (benchmarks)
