"""The admin home's tiles and the report pages under /admin/reports/.

The home is unfold's index with ``UNFOLD["DASHBOARD_CALLBACK"]`` pointing at
:func:`dashboard_callback` (``home``); the report pages (``pages``) render a
registered report inside the admin layout; ``charts`` turns a report's rows into
Chart.js data for unfold's chart components.
"""

from .home import dashboard_callback, report_url
from .pages import report_csv, report_page, report_xlsx, reports_index

__all__ = [
    "dashboard_callback",
    "report_csv",
    "report_page",
    "report_url",
    "report_xlsx",
    "reports_index",
]
