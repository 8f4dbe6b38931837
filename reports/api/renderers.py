"""CSV and Excel as DRF renderers, so ``?format=csv|xlsx`` picks them like any
other format; they render the report a view hands them, nothing else."""

from __future__ import annotations

from rest_framework.renderers import BaseRenderer

from ..exports import report_csv, report_xlsx
from ..registry import ReportResult


class ReportCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, ReportResult):
            raise TypeError("the CSV renderer renders reports only")
        return report_csv(data)


class ReportXLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, ReportResult):
            raise TypeError("the Excel renderer renders reports only")
        return report_xlsx(data)
