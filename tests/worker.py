"""A real Celery worker process for the tests that need one."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from appraisal.celery import app

ROOT = Path(__file__).resolve().parent.parent


class WorkerProcess:
    def __init__(self, name: str = "test", env: dict[str, str] | None = None):
        self.name = name
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "WorkerProcess":
        db = connection.settings_dict
        env = os.environ | {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "BALLOT_PSEUDONYM_KEY": settings.BALLOT_PSEUDONYM_KEY,
            **self.extra_env,
        }
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        self.log = open(ROOT / "test-artifacts" / f"worker-{self.name}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "appraisal",
                "worker",
                "--concurrency=1",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{self.name}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches the pool children too
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}")
            replies = app.control.ping(timeout=0.5) or []
            if any(f"{self.name}-{os.getpid()}@" in name for reply in replies for name in reply):
                return self
        raise RuntimeError("worker did not start")

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()
