"""Writes and rules of the reports app, by concept: aggregation, the organizers' inputs (components,
adjustments, veto), publishing, rehearsals. Import from here."""

from .aggregation import (  # noqa: F401
    REQUEUE_AFTER_SECONDS,
    ProgressCallback,
    aggregation_enqueue,
    aggregation_execute,
    aggregation_request,
    aggregation_requeue_if_stale,
    snapshot_compute,
)
from .inputs import (  # noqa: F401
    ADJUSTMENT_LIMIT,
    adjustment_add,
    adjustment_withdraw,
    component_scores_import,
    component_sheet_commit,
    component_sheet_preview,
    veto_set,
    veto_withdraw,
)
from .publishing import (  # noqa: F401
    aggregation_runs_orphaned,
    seal_enqueue,
    snapshot_publish,
    snapshot_stale_changes,
    snapshot_stale_reasons,
    snapshot_unpublish,
)
from .rehearsals import (  # noqa: F401
    rehearsal_components_copy,
    rehearsal_enqueue,
    rehearsal_execute,
    rehearsal_request,
)
