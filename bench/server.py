"""Start and stop the real stack for a benchmark: gunicorn (several workers) on loopback."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "postgres://postgres@127.0.0.1:5432/kaoping_bench"


def bench_env() -> dict:
    return os.environ | {
        "DATABASE_URL": BENCH_DB,
        "REDIS_URL": "redis://127.0.0.1:6379/2",
        "CACHE_URL": "redis://127.0.0.1:6379/3",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ROOT_URLCONF": "bench.urls",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "",
        # Sync workers measured best on 2 cores (141 ballots/s against 137 with 4 threads each).
        "GUNICORN_THREADS": os.environ.get("GUNICORN_THREADS", "1"),
    }


class Gunicorn:
    def __init__(self, port: int = 8765, workers: int = 4, env: dict | None = None):
        self.port, self.workers = port, workers
        self.url = f"http://127.0.0.1:{port}"
        self.env = bench_env() | (env or {})

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def busy_worker_pids(self) -> list[int]:
        """Workers holding a client's connection right now, that is, in the middle of a request.

        A sync worker owns a connection from accept() to close(); read from /proc, without tools. The
        workers' sockets are read first and the TCP table after: a socket a worker held that is still
        ESTABLISHED on our port is a request still in progress. The other order saw a busy worker only
        rarely once a request took a few milliseconds, because reading a burst's TCP table (thousands of
        closed connections) takes about as long.
        """
        held: dict[str, int] = {}
        for pid in self.worker_pids():
            fd_dir = Path(f"/proc/{pid}/fd")
            try:
                for fd in os.listdir(fd_dir):
                    link = os.readlink(fd_dir / fd)
                    if link.startswith("socket:["):
                        held[link[8:-1]] = pid
            except OSError:  # the worker is gone
                continue
        local = f":{self.port:04X} "
        busy = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                if local not in line:
                    continue
                fields = line.split()
                if fields[1].endswith(local.strip()) and fields[3] == "01" and fields[9] in held:  # 01: ESTABLISHED
                    busy.add(held[fields[9]])
        return sorted(busy)

    def __enter__(self) -> "Gunicorn":
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=self.env, check=True
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "appraisal.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)
