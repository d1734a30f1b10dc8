"""Prepared statements for the few statements of the ballot's hot path (issue 19).

Django binds parameters on the client (psycopg's ClientCursor): every statement reaches PostgreSQL as new
text, to be parsed and planned again. The token's four-table SELECT, the submission's context read and its
three-table INSERT cost more to plan than to run. This cursor binds on the server and prepares each
statement once per connection (connections live CONN_MAX_AGE seconds), inside Django's cursor wrapper, so
that execute wrappers and django_assert_num_queries see them as any other (Django's debug query log
counts them but cannot show their text: psycopg does not keep the text of a query it ran prepared).

Only for fixed SQL text with parameters whose Python types do not vary: psycopg keys a prepared statement
by the text and the parameters' types. Not behind a transaction-mode connection pooler (none in our stack).
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

_cursor_class = None
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE, without importing psycopg where it is absent
PREPARE_THRESHOLD = 0


def _db():
    """The default connection's wrapper, looked up once. Every ``connection.x`` goes through Django's
    proxy and a context-local lookup; on the ballot's path that was some fifty lookups a request."""
    return connections[DEFAULT_DB_ALIAS]


def _preparing_cursor_class():
    global _cursor_class
    if _cursor_class is None:
        from django.db.backends.postgresql.base import ServerBindingCursor

        class PreparingCursor(ServerBindingCursor):
            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(query, params, prepare=True, binary=binary)

            def execute_unprepared(self, command: bytes):
                """BEGIN or COMMIT: nothing to plan, nothing worth a prepared statement's name."""
                return super().execute(command, prepare=False)

        _cursor_class = PreparingCursor
    return _cursor_class


def prepared_cursor(db=None):
    """A cursor for ``with prepared_cursor() as cursor:``; a plain one where the database is not PostgreSQL.

    Made as ``connection.cursor()`` makes one (health check, thread check, Django's wrapper), with our
    cursor class."""
    db = db or _db()
    if db.vendor != "postgresql":
        return db.cursor()
    cursor_class = _preparing_cursor_class()
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw = db.connection
    if raw.prepare_threshold is None:
        # Django turns preparation off for the connection (for poolers); psycopg then ignores even an
        # explicit prepare=True. Django's own cursors bind on the client and never prepare, so this
        # turns it on for this cursor's statements alone.
        raw.prepare_threshold = PREPARE_THRESHOLD
    with db.wrap_database_errors:
        return db._prepare_cursor(cursor_class(raw))


def fetchone_first(sql: str, params) -> tuple | None:
    """One row of a read that is the request's first statement, prepared, with Django's health check folded in.

    With CONN_HEALTH_CHECKS, Django sends ``SELECT 1`` before a request's first statement on a persistent
    connection: a round trip of its own, one of six on a ballot. A read can be its own check: it runs at
    once, and if it fails because the connection is gone (PostgreSQL restarted, the backend terminated),
    the connection is closed and the read runs again on a new one, as it would after a failed check. A
    failure on a connection that still answers is an ordinary error, raised as before.
    """
    return _first_read(sql, params, lambda cursor: cursor.fetchone())


def fetchall_first(sql: str, params) -> list[tuple]:
    """Every row of a read that is the request's first statement, as fetchone_first reads one."""
    return _first_read(sql, params, lambda cursor: cursor.fetchall())


def _first_read(sql: str, params, fetch):
    db = _db()
    due = (
        db.vendor == "postgresql"
        and db.connection is not None
        and db.health_check_enabled
        and not db.health_check_done
        and not db.in_atomic_block
    )
    if due:
        db.health_check_done = True  # the read below is the check
        try:
            with prepared_cursor(db) as cursor:
                cursor.execute(sql, params)
                return fetch(cursor)
        except (OperationalError, InterfaceError):
            if db.is_usable():
                raise
            db.close()
    with prepared_cursor(db) as cursor:
        cursor.execute(sql, params)
        return fetch(cursor)


def _outermost_transaction(db) -> bool:
    """The code runs in the outermost atomic block, which commits on its exit: no savepoint of a caller's
    transaction (a test's, another service's) that a BEGIN or COMMIT of ours would disturb."""
    return (
        db.in_atomic_block
        and db.commit_on_exit
        and not db.savepoint_ids
        and not db.needs_rollback
        and len(db.atomic_blocks) == 1
    )


@contextmanager
def pipeline_beginning(cursor):
    """A psycopg pipeline for a transaction's first statements on ``cursor``, its BEGIN going out beside them.

    Inside an atomic block psycopg opens the transaction itself before the first statement, and in a
    pipeline it sends that BEGIN alone and waits for it: a round trip of its own. In the outermost block,
    before any statement, psycopg is switched to autocommit (it then sends no BEGIN) and the BEGIN goes
    into the pipeline. The transaction is the same explicit one: Django's commit or rollback on leaving
    the block ends it (psycopg commits or rolls back whenever a transaction is open, whatever its
    autocommit says), and Django puts autocommit back after. Anywhere else it is a plain pipeline.
    """
    db = cursor.db
    raw = db.connection
    own_begin = _outermost_transaction(db) and raw.info.transaction_status == _IDLE
    if own_begin:
        raw.autocommit = True  # before the pipeline: psycopg syncs a pipeline to change it
    with db.wrap_database_errors, raw.pipeline():
        if own_begin:
            # On the psycopg cursor, not Django's wrapper: like psycopg's own BEGIN, not a query to count.
            cursor.cursor.execute_unprepared(b"BEGIN")
        yield


@contextmanager
def pipeline_committing(cursor):
    """A psycopg pipeline whose last statement on ``cursor`` goes out with the COMMIT: yields ``commit``, to
    call right after the transaction's last statement.

    Django commits on leaving the atomic block, a round trip after the last statement's. Here the COMMIT
    goes out with it; Django's commit then finds no transaction open and sends nothing. If the statement
    fails, PostgreSQL skips the COMMIT, the error is raised on leaving this block, and the atomic block
    rolls back as before. Only in the outermost block: in a savepoint (a caller's transaction) ``commit``
    does nothing and the caller commits.
    """
    db = cursor.db
    if db.vendor != "postgresql" or not _outermost_transaction(db):
        yield lambda: None
        return
    raw_cursor = cursor.cursor
    with db.wrap_database_errors, db.connection.pipeline():
        # On the psycopg cursor, not Django's wrapper: like Django's own commit, not a query to count.
        yield lambda: raw_cursor.execute_unprepared(b"COMMIT")


@contextmanager
def pipeline_transaction(cursor):
    """BEGIN, the statements on ``cursor`` and the COMMIT in one psycopg pipeline: a whole transaction in one
    round trip. Yields ``commit``, to call right after the transaction's last statement; what the statements
    return stays on ``cursor`` (the COMMIT goes out on a cursor of its own), to fetch after the block.

    pipeline_beginning and pipeline_committing in one: the BEGIN only in the outermost atomic block before any
    statement, the COMMIT only in the outermost block (in a caller's transaction the caller commits). If a
    statement fails, PostgreSQL skips the rest, the error is raised on leaving this block and the atomic block
    rolls back.
    """
    db = cursor.db
    raw = db.connection
    outermost = _outermost_transaction(db)
    own_begin = outermost and raw.info.transaction_status == _IDLE
    if own_begin:
        raw.autocommit = True  # before the pipeline: psycopg syncs a pipeline to change it
    with db.wrap_database_errors, raw.pipeline():
        if own_begin:
            cursor.cursor.execute_unprepared(b"BEGIN")
        if outermost:
            committer = _preparing_cursor_class()(raw)
            yield lambda: committer.execute_unprepared(b"COMMIT")
        else:
            yield lambda: None
