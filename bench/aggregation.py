"""Aggregation benchmark: our whole task next to one hand-written SQL query, in the same run.

Builds meetings of 10^4, 10^5 and 10^6 score rows (departments x raters x 5
criteria) in a scratch PostgreSQL database, then times, alternately:
  baseline  one hand-written SQL query computing every role score (trimmed
            mean of ballot totals) from the score rows;
  ours      the aggregation as the Celery task runs it: tallies, ranking,
            ballot digest, stability, rater diagnostics and the stored snapshot;
  plain     the same without stability and diagnostics (SCORING.md 13, 14),
and the whole task once more in a fresh process for the worker's peak memory.
Run: make bench-aggregation   (writes bench/results/aggregation.json)
"""

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appraisal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kaoping_bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from meetings.services import meeting_import  # noqa: E402
from reports import selectors  # noqa: E402
from reports.models import AggregationRun  # noqa: E402
from reports.scoring import ballots_digest, line_digest  # noqa: E402
from reports.services import aggregation_execute  # noqa: E402

CRITERIA = 5
ROLES = 4
SIZES = [(10, 200), (100, 200), (100, 2000)]  # (departments, raters) -> x5 criteria score rows
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))

BASELINE_SQL = """
WITH totals AS (
    SELECT b.presentation_id, b.role_id, sum(v.points) AS total
    FROM voting_ballotvalue v
    JOIN voting_ballot b ON b.id = v.ballot_id
    JOIN meetings_presentation p ON p.id = b.presentation_id
    WHERE p.meeting_id = %s AND b.state = 'submitted'
    GROUP BY b.id, b.presentation_id, b.role_id
)
SELECT presentation_id, role_id, count(*),
       round(CASE WHEN count(*) > 2 THEN (sum(total) - min(total) - max(total)) / (count(*) - 2)
                  ELSE avg(total) END, 4)
FROM totals
GROUP BY presentation_id, role_id
"""


def document(departments: int, raters: int) -> dict:
    criteria = [
        {"code": f"c{i}", "name": f"指标{i}", "kind": "numeric", "max": 20, "step": "0.5"} for i in range(CRITERIA)
    ]
    return {
        "cycle": {"year": 2030, "name": "基准测试"},
        "meeting": {
            "title": f"基准 {departments}x{raters}",
            "date": "2030-01-20",
            "tie_break_roles": ["r0"],
            "reward": {"top_percent": 10},
            "admonition": {"bottom_percent": 5},
        },
        "categories": [{"code": "all", "name": "全部"}],
        "departments": [{"code": f"D{i:03d}", "name": f"部门{i}", "category": "all"} for i in range(departments)],
        "roles": [
            {"code": f"r{i}", "name": f"类别{i}", "weight": "0.25", "trim": 1, "criteria": criteria}
            for i in range(ROLES)
        ],
        "raters": [{"role": f"r{i}", "count": raters // ROLES} for i in range(ROLES)],
    }


def fill_ballots(meeting_id: int) -> int:
    """Every seat scores every presentation; values drawn in SQL for speed. Pseudonyms are the real
    ones (per seat and presentation, keyed), so that the worker finds each seat's ballots as it does in
    a meeting; ids are random like the service's."""
    from meetings.models import Presentation, Rater
    from voting.selectors import rater_pseudonym

    presentations = list(Presentation.objects.filter(meeting_id=meeting_id).values_list("pk", flat=True))
    # Read before the COPY: the connection serves nothing else while it is copying.
    raters = list(Rater.objects.filter(meeting_id=meeting_id).only("pk", "meeting_id"))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE seat_pseudonym (presentation_id bigint, rater_id bigint, pseudonym text)")
        with cursor.copy("COPY seat_pseudonym (presentation_id, rater_id, pseudonym) FROM STDIN") as copy:
            for rater in raters:
                for presentation_id in presentations:
                    copy.write_row((presentation_id, rater.pk, rater_pseudonym(rater, presentation_id)))
        cursor.execute(
            """
            INSERT INTO voting_ballot (id, presentation_id, role_id, pseudonym, receipt, state, source, total,
                                       created_at, updated_at, void_reason, line_sha256)
            SELECT floor(random() * 4e18)::bigint + 1, p.id, r.role_id, s.pseudonym,
                   upper(substr(md5(r.id || ':' || p.id || 'x'), 1, 16)), 'submitted', 'phone', 0, now(), now(), '', ''
            FROM meetings_presentation p JOIN meetings_rater r ON r.meeting_id = p.meeting_id
            JOIN seat_pseudonym s ON s.presentation_id = p.id AND s.rater_id = r.id
            WHERE p.meeting_id = %s
            """,
            [meeting_id],
        )
        cursor.execute("DROP TABLE seat_pseudonym")
        cursor.execute(
            """
            INSERT INTO voting_ballotvalue (id, ballot_id, criterion_id, grade_id, points)
            SELECT floor(random() * 4e18)::bigint + 1, b.id, c.id, NULL, floor(random() * 41) * 0.5
            FROM voting_ballot b
            JOIN meetings_presentation p ON p.id = b.presentation_id
            JOIN appraisal_criterion c ON c.role_id = b.role_id
            WHERE p.meeting_id = %s
            """,
            [meeting_id],
        )
        # The total and canonical line the ballot service computes on acceptance, here in SQL.
        cursor.execute(
            """
            UPDATE voting_ballot b SET total = s.total, line_sha256 = encode(sha256(convert_to(s.canonical, 'UTF8')), 'hex')
            FROM (SELECT v.ballot_id, sum(v.points) AS total,
                         '{"department":' || to_json(min(d.code))::text
                         || ',"points":{' || string_agg(to_json(c.code)::text || ':"' || v.points::text || '"', ','
                                                        ORDER BY c.code COLLATE "C")
                         || '},"presentation":' || min(b2.presentation_id)
                         || ',"receipt":' || to_json(min(b2.receipt))::text
                         || ',"role":' || to_json(min(r.code))::text || '}' AS canonical
                  FROM voting_ballotvalue v
                  JOIN appraisal_criterion c ON c.id = v.criterion_id
                  JOIN voting_ballot b2 ON b2.id = v.ballot_id
                  JOIN appraisal_raterrole r ON r.id = b2.role_id
                  JOIN meetings_presentation p ON p.id = b2.presentation_id
                  JOIN appraisal_department d ON d.id = p.department_id
                  WHERE p.meeting_id = %s GROUP BY v.ballot_id) s
            WHERE b.id = s.ballot_id
            """,
            [meeting_id],
        )
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT count(*) FROM voting_ballotvalue v JOIN voting_ballot b ON b.id = v.ballot_id "
            "JOIN meetings_presentation p ON p.id = b.presentation_id WHERE p.meeting_id = %s",
            [meeting_id],
        )
        return cursor.fetchone()[0]


def time_baseline(meeting_id: int) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, [meeting_id])
        cursor.fetchall()
    return time.perf_counter() - started


def time_ours(meeting) -> float:
    run = AggregationRun.objects.create(meeting=meeting)
    started = time.perf_counter()
    aggregation_execute(run_id=run.pk)
    return time.perf_counter() - started


def time_plain(meeting) -> float:
    """The aggregation without SCORING.md 13 and 14 (no stability, no diagnostics), in the same transaction
    shape: the comparison point for what they cost."""
    from django.db import transaction

    from reports.services import snapshot_compute

    started = time.perf_counter()
    with transaction.atomic():
        snapshot_compute(meeting=meeting, analysis=False)
    return time.perf_counter() - started


def worker_peak(meeting_id: int) -> dict:
    """The whole task in a fresh process, as a worker runs it: its time and its peak memory (max RSS)."""
    import subprocess

    code = (
        "import json, resource, time, django; django.setup();"
        "from reports.models import AggregationRun; from reports.services import aggregation_execute;"
        f"run = AggregationRun.objects.create(meeting_id={meeting_id}); t = time.perf_counter();"
        "aggregation_execute(run_id=run.pk);"
        "print(json.dumps({'seconds': round(time.perf_counter() - t, 3),"
        " 'max_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=os.environ.copy()
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    call_command("migrate", verbosity=0)
    results = []
    for departments, raters in SIZES:
        meeting = meeting_import(document=document(departments, raters), actor=None).meeting
        rows = fill_ballots(meeting.pk)
        if rows <= 10**5:  # the SQL-made lines must be the ones the service would make
            lines = selectors.ballot_lines_from_values(meeting)
            assert selectors.counting_ballots_digest(meeting) == (ballots_digest(map(line_digest, lines)), len(lines))
        time_baseline(meeting.pk), time_ours(meeting), time_plain(meeting)  # warm caches once
        baseline, ours, plain = [], [], []
        for _ in range(REPEATS):
            baseline.append(time_baseline(meeting.pk))
            ours.append(time_ours(meeting))
            plain.append(time_plain(meeting))
        result = {
            "score_rows": rows,
            "ballots": departments * (raters // ROLES) * ROLES,
            "baseline_s": round(statistics.median(baseline), 4),
            "ours_s": round(statistics.median(ours), 4),
            "plain_s": round(statistics.median(plain), 4),
            "worker": worker_peak(meeting.pk),
        }
        result["ratio"] = round(result["ours_s"] / result["baseline_s"], 2)
        result["analysis_ratio"] = round(result["ours_s"] / result["plain_s"], 2)
        results.append(result)
        print(json.dumps(result), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "aggregation.json").write_text(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                f"PostgreSQL {connection.cursor().connection.info.server_version}",
                "repeats": REPEATS,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
