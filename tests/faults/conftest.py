import subprocess
import time

import pytest

REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
]


def redis_up() -> bool:
    return subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


def redis_stop() -> None:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    for _ in range(50):
        if not redis_up():
            return
        time.sleep(0.1)
    raise RuntimeError("Redis did not stop")


def redis_start() -> None:
    if not redis_up():
        subprocess.run(REDIS_START, check=True, capture_output=True)
    for _ in range(50):
        if redis_up():
            return
        time.sleep(0.1)
    raise RuntimeError("Redis did not start")


@pytest.fixture
def redis_control():
    """Stop and start the machine's Redis; it is always running again after the test."""
    try:
        yield {"stop": redis_stop, "start": redis_start, "up": redis_up}
    finally:
        redis_start()
