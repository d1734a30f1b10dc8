"""The phones: one burst of submissions while every phone polls the live state.

Reads a JSON spec on stdin, prints the measurements as JSON. Runs as its own process so that the
load does not share an interpreter with the server.
"""

import contextlib
import http.client
import json
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

SCORES = {"performance": "52.5", "innovation": "31"}
MAX_TRIES = 6


def request(conn_holder, host, port, method, path, body=None, headers=None, timeout=30):
    conn = conn_holder.get("c")
    if conn is None:
        conn = conn_holder["c"] = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        conn_holder["replayed"] = response.getheader("Idempotent-Replayed") == "true"
        return response.status
    except (OSError, http.client.HTTPException):
        conn.close()
        conn_holder["c"] = None
        raise


def main() -> None:
    spec = json.load(sys.stdin)
    url = urlparse(spec["server"])
    host, port = url.hostname, url.port
    tokens = spec["tokens"]
    stop = threading.Event()
    polls = {"n": 0, "errors": 0}

    def poller(share: list[str]):
        # Each thread plays many phones, each polling every 2.5 to 4 s, as rater.js does.
        holder = {}
        next_poll = {t: time.monotonic() + random.uniform(0, 3) for t in share}
        while not stop.is_set():
            token, due = min(next_poll.items(), key=lambda kv: kv[1])
            delay = due - time.monotonic()
            if delay > 0:
                stop.wait(min(delay, 0.05))
                continue
            try:
                status = request(
                    holder,
                    host,
                    port,
                    "GET",
                    spec["live"],
                    headers={"If-None-Match": '"x"', "Authorization": f"Rater {token}"},
                )
                polls["n"] += 1
                polls["errors"] += status >= 500
            except (OSError, http.client.HTTPException):
                polls["errors"] += 1
            next_poll[token] = time.monotonic() + random.uniform(2.5, 4.0)

    pollers = [threading.Thread(target=poller, args=(tokens[i::20],), daemon=True) for i in range(20)]
    for thread in pollers:
        thread.start()
    time.sleep(1)

    latencies, errors, retries, replayed = [], 0, 0, 0
    statuses: dict[str, int] = {}  # every answer a submission got, by status ("none": no answer at all)
    lock = threading.Lock()
    local = threading.local()

    def phone(token: str):
        nonlocal errors, retries, replayed
        holder = local.__dict__.setdefault("holder", {})
        key = uuid.uuid4().hex
        if spec["kind"] == "ballot":
            path = f"/api/v1/rater/ballots/{spec['presentation']}"
            method, headers = (
                "PUT",
                {"Authorization": f"Rater {token}", "Idempotency-Key": key, "Content-Type": "application/json"},
            )
        else:
            path, method, headers = "/bench/baseline-insert", "POST", {"Content-Type": "application/json"}
        body = json.dumps({"scores": SCORES})
        started = time.perf_counter()
        # "sends": 2 resends every request once more with the same key, as a phone does whose first answer
        # was lost on the way back (issue 19); the second must be answered from the key, nothing stored twice.
        for _send in range(spec.get("sends", 1) - 1):
            with contextlib.suppress(OSError, http.client.HTTPException):
                request(holder, host, port, method, path, body=body, headers=headers)
        for attempt in range(MAX_TRIES):
            try:
                status = request(holder, host, port, method, path, body=body, headers=headers)
            except (OSError, http.client.HTTPException):
                # No answer, or one cut off mid-body (a worker killed while writing it): a phone's
                # fetch fails the same way either way, and resends.
                status = None
            with lock:
                statuses[str(status or "none")] = statuses.get(str(status or "none"), 0) + 1
            if status in (200, 201):
                with lock:
                    latencies.append(time.perf_counter() - started)
                    # The first answer was lost after the ballot was stored: the resend got it from the key.
                    replayed += holder.get("replayed", False)
                return
            with lock:
                retries += 1
            time.sleep(min(2.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.5))
        with lock:
            errors += 1

    burst_started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=100) as pool:
        list(pool.map(phone, tokens))
    elapsed = time.perf_counter() - burst_started
    stop.set()
    ordered = sorted(latencies)
    print(
        json.dumps(
            {
                "requests": len(tokens),
                "ok": len(latencies),
                "errors": errors,
                "retries": retries,
                "statuses": statuses,
                "replayed": replayed,
                "seconds": round(elapsed, 2),
                "throughput": round(len(latencies) / elapsed, 1),
                "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
                "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1) if ordered else None,
                "polls": polls["n"],
                "poll_errors": polls["errors"],
            }
        )
    )


if __name__ == "__main__":
    main()
