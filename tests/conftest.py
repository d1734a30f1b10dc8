import copy
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from appraisal.parsers import loads_exact

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = loads_exact((ROOT / "data" / "sample-meeting.json").read_text(encoding="utf-8"))


@pytest.fixture
def sample_document() -> dict:
    """The shared sample meeting (73 departments, 200 seats), a fresh copy per test."""
    return copy.deepcopy(SAMPLE)


@pytest.fixture
def small_document():
    """Builder for a small meeting document; keyword overrides go into "meeting"."""
    from tests.factories import small_meeting_document

    return small_meeting_document


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached live state must not leak from one test into another."""
    from django.core.cache import cache

    from voting import selectors, throttle

    cache.clear()
    selectors._local_live.clear()
    selectors._public_memo.clear()
    selectors._token_memo.clear()
    selectors._form_memo.clear()
    selectors._seat_memo.clear()
    selectors._seated_meetings.clear()
    selectors._pruned.clear()
    throttle._exceeded_memo.clear()
    yield


@pytest.fixture(autouse=True)
def _sheets_in_process(settings):
    """Sheets are read in the test's own process (as in the demo) unless a test starts a real worker
    and says otherwise (tests/meetings/test_sheet_worker.py)."""
    settings.SHEETS_IN_PROCESS = True


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    from tests.browser import CHROMIUM, CHROMIUM_FLAGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized touch browser context against the live server."""
    from tests.browser import PHONE

    context = browser.new_context(**PHONE, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session", autouse=True)
def _flush_past_audit_triggers():
    """Between transactional tests Django empties every table with TRUNCATE, which the audit
    log's triggers refuse (meetings migration 0004). The test database's owner, a superuser, lifts
    triggers for that one flush transaction, as only a superuser can; the application's own role
    cannot (docs/operations.md)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original
