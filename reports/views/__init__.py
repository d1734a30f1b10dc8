"""Pages of the organizing department (console, review, audit), the projector, and the public, by concept."""

from .console import (  # noqa: F401
    MINUTES,
    console_adjust,
    console_aggregate,
    console_audit,
    console_countdown,
    console_index,
    console_meeting,
    console_paper,
    console_void,
    console_voting,
    rehearsal_create,
    rehearsal_status,
)
from .public import (  # noqa: F401
    home,
    projector,
    projector_json,
    projector_state,
    public_results,
)
from .review import (  # noqa: F401
    category_names,
    chart_rows,
    console_history,
    console_publish,
    console_review,
    role_columns,
)
