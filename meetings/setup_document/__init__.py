"""The meeting setup document of API.md: validation into a normalised form.

Pure: plain data in, plain data out, no ORM. Every problem is collected with
its JSON path (``roles[1].criteria[0].max``) so that one answer lists them
all. The rules enforced are SCORING.md sections 1 (forms add up to the full
mark), 5 (weights add up to 1) and 7 (reward and admonition fit in every
scope), plus the references between the lists.
"""

from .specs import (  # noqa: F401
    MAX_SEATS_PER_ENTRY,
    MAX_SEATS_TOTAL,
    SCORE_LIMIT,
    SCORE_PLACES,
    WEIGHT_PLACES,
    CriterionSpec,
    GradeSpec,
    RaterSpec,
    RoleSpec,
    SetupDocument,
    SetupInvalid,
)
from .validate import validate_setup_document  # noqa: F401
