"""Exports of a result snapshot: the verifiable anonymised ballot export (JSON), Excel, CSV and PDF.

Every export carries the snapshot's own rows, digit for digit. The JSON
export holds everything needed to recompute the ranking and the digest from
it alone (verify_export), and no rater identity: ballots are listed by
receipt code.
"""

from .document import (  # noqa: F401
    EXPORT_FORMAT,
    audit_head_words,
    export_document,
    snapshot_audit_head,
    verify_export,
)
from .pdf import (  # noqa: F401
    to_pdf,
)
from .tables import (  # noqa: F401
    flag_words,
    names_of,
    neutralise,
    outcome_words,
    ranking_table,
    to_csv,
    to_xlsx,
)
