"""CSV and Excel exports of admin changelists (docs/exports.md).

Finance staff take a list away to work on it in a spreadsheet: the rows they have
filtered and searched on the page, with headers they can read and numbers they can
add up. django-import-export writes the file; this module is what every exportable
admin of the project shares:

- :class:`ExportAdminMixin`, put before ``ModelAdmin`` in an admin's bases: an
  "Export" button on the changelist that carries the page's filters and search,
  CSV or Excel only, for whoever may view the list, nothing to import;
- :class:`ExportResource` and the column helpers, with which each app's
  ``resources.py`` says its columns: headers are the fields' verbose names (so they
  are in the viewer's language), money is a Decimal column plus a currency column,
  dates stay dates, statuses and kinds show their label; the rows are read by one
  query with the related rows joined in, whatever their number.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from unfold.contrib.import_export.forms import ExportForm


class YesNoWidget(widgets.Widget):
    """A boolean as the words a reader expects ("是" / "否"), in either format."""

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return gettext("Yes") if value else gettext("No")


# Numbers are written as numbers: Decimal (an Excel number cell, "1234.50" in CSV
# without a thousands separator), never number_format's localised text.
def _widget_for(field: models.Field) -> widgets.Widget:
    if isinstance(field, models.BooleanField):
        return YesNoWidget()
    if isinstance(field, models.DateTimeField):
        return widgets.DateTimeWidget()  # in the site's time zone, naive for Excel
    if isinstance(field, models.DateField):
        return widgets.DateWidget()
    if isinstance(field, models.DecimalField):
        return widgets.DecimalWidget(coerce_to_string=False)
    if isinstance(field, models.IntegerField):
        return widgets.IntegerWidget(coerce_to_string=False)
    return widgets.Widget()


def model_field(model: type[models.Model], path: str) -> models.Field:
    """The field ``path`` names from ``model`` (``contract__customer__code``)."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def column(model, path: str, *, label=None) -> fields.Field:
    """One column: the value at ``path``, headed by the field's verbose name (lazy,
    so the header is translated when the file is written, for its reader)."""
    field = model_field(model, path)
    return fields.Field(
        attribute=path,
        column_name=label if label is not None else field.verbose_name,
        widget=_widget_for(field),
    )


def label_column(model, path: str, *, label=None) -> fields.Field:
    """A choice field's label in the reader's language ("逾期"), not its code."""
    field = model_field(model, path)
    *relations, name = path.split("__")
    return fields.Field(
        attribute="__".join([*relations, f"get_{name}_display"]),
        column_name=label if label is not None else field.verbose_name,
    )


def money_columns(model, path: str, *, label=None) -> tuple[fields.Field, fields.Field]:
    """A MoneyField as two columns, the Decimal amount and its currency code: a
    spreadsheet can sum the first (per currency, by the second); a Money object
    written as-is would come out empty or as text."""
    field = model_field(model, path)
    amount = fields.Field(
        attribute=f"{path}__amount",
        column_name=label if label is not None else field.verbose_name,
        widget=widgets.DecimalWidget(coerce_to_string=False),
    )
    currency = fields.Field(attribute=f"{path}_currency", column_name=_("currency"))
    return amount, currency


class ExportResource(resources.Resource):
    """The columns of one list's export, in the order declared.

    ``select_related`` names every relation a column reads: the export joins them
    into its one query and drops any ``prefetch_related`` the changelist added for
    its own columns, so a file of 30 rows and one of 300,000 cost the same number
    of queries (the rows stream through ``QuerySet.iterator``)."""

    select_related: tuple[str, ...] = ()
    display_name = ""

    @classmethod
    def get_display_name(cls):
        return cls.display_name or cls.__name__

    def filter_export(self, queryset, **kwargs):
        queryset = queryset.prefetch_related(None)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        return queryset


class CsvFormat(CSV):
    """CSV whose text cells never start a formula when Excel opens the file: a
    leading "=" (a customer name, a bank narrative) is dropped."""

    def export_data(self, dataset, **kwargs):
        self._escape_formulae(dataset)  # every cell becomes text, as in any CSV
        return dataset.export(self.get_title(), **kwargs)


class ExcelFormat(XLSX):
    """XLSX whose text cells never become formulas (a leading "=" is dropped);
    numbers and dates keep their cell types."""

    def export_data(self, dataset, **kwargs):
        kwargs.setdefault("escape", True)
        return super().export_data(dataset, **kwargs)


class ExportAdminMixin(ExportMixin):
    """An "Export" button on the changelist: the rows of the page's current filters
    and search (all of them, not one page), as CSV or Excel. Put it first in the
    bases and name the list's ``resource_classes``.

    Exporting is reading, so it takes the permission to view the list (or to change
    it, which includes viewing), as the changelist does. The export's ChangeList
    never counts rows, so a large table's list (feemgmt/core/admin_lists.py) stays
    free of COUNT(*) on this path too."""

    export_form_class = ExportForm
    export_formats = (CsvFormat, ExcelFormat)
    # A BOM, so that Excel opening the CSV reads the Chinese as UTF-8.
    to_encoding = "utf-8-sig"

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """As django-import-export's, but Excel's native cells (numbers, dates) are
        asked of any binary format, not only of its own classes."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        data = self.get_data_for_export(
            request, queryset, force_native_type=file_format.is_binary(), **kwargs
        )
        export_data = file_format.export_data(data)
        encoding = kwargs.get("encoding")
        if not file_format.is_binary() and encoding:
            export_data = export_data.encode(encoding)
        return export_data

    def get_export_filename(self, request, queryset, file_format):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"{self.model._meta.model_name}-{stamp}.{file_format.get_extension()}"
