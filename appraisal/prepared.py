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

from django.db import connection

_cursor_class = None
PREPARE_THRESHOLD = 0


def _preparing_cursor_class():
    global _cursor_class
    if _cursor_class is None:
        from django.db.backends.postgresql.base import ServerBindingCursor

        class PreparingCursor(ServerBindingCursor):
            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(query, params, prepare=True, binary=binary)

        _cursor_class = PreparingCursor
    return _cursor_class


def prepared_cursor():
    """A cursor for ``with prepared_cursor() as cursor:``; a plain one where the database is not PostgreSQL.

    Made as ``connection.cursor()`` makes one (health check, thread check, Django's wrapper), with our
    cursor class."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    cursor_class = _preparing_cursor_class()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        # Django turns preparation off for the connection (for poolers); psycopg then ignores even an
        # explicit prepare=True. Django's own cursors bind on the client and never prepare, so this
        # turns it on for this cursor's statements alone.
        connection.connection.prepare_threshold = PREPARE_THRESHOLD
    with connection.wrap_database_errors:
        return connection._prepare_cursor(cursor_class(connection.connection))
