"""Admins' sheets (.xlsx or .csv) of departments and rater panels: read and check, row by row.

Pure apart from reading the file: the caller passes what exists (roles,
departments, categories) and gets back either the rows to create or every
problem with its row and column. Headers may be English or Chinese, and a
role, department or category may be named by its code or by its name, as
the admins' own sheets do.
"""

from .reading import (  # noqa: F401
    HEADER_SEARCH_ROWS,
    LIMITS,
    MAX_BYTES,
    MAX_ROWS,
    SheetInvalid,
    map_columns,
    problem,
    read_rows,
    rows_bytes_checked,
    rows_from_bytes,
)
from .rows import (  # noqa: F401
    CONTACT_COLUMNS,
    DEPARTMENT_COLUMNS,
    PANEL_COLUMNS,
    SURVEY_FIXED_COLUMNS,
    ContactRow,
    DepartmentRow,
    PanelRow,
    component_rows,
    contact_rows,
    department_rows,
    panel_rows,
)
