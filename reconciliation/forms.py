"""Forms of the reconciliation admin: the receiving account, the statement import
and the column-mapping preview.

They only read input and files; what an import writes, and whether a mapping may
be saved, is decided by ``reconciliation.services``. A preview parses the file
exactly as the import will (same format choice, same mapping) but writes nothing,
so a clerk sees what is about to be booked, or the line that cannot be read,
before committing to anything.

Between the preview and the import the file is kept in the user's session
(base64, up to :data:`KEEP_MAX_BYTES`), under a random token that the second
submit sends back with the file's SHA-256: a browser cannot re-send a file input
by itself, and a token plus digest means the import can only be of the very bytes
that were previewed. A larger file is not kept; the page then asks for it again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminFileFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
)

from feemgmt.core.admin_forms import ServiceModelForm, error_messages
from feemgmt.core.exceptions import BusinessError

from .choices import MOVEMENT_FORMATS, StatementFormat
from .models import BankAccount, Statement
from .parsers import ParsedLine, StatementParseError, detect_format, parse_statement
from .services import column_mapping_check

# Files up to this size survive between the preview and the import in the session.
KEEP_MAX_BYTES = 4 * 1024 * 1024
PREVIEW_LINES = 10
TABULAR_FORMATS = ("csv", "xlsx", "xls")

AUTO = "auto"
FORMAT_CHOICES = [(AUTO, _("Detect from the file")), *StatementFormat.choices]


# --- Files kept between two submits ---------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file's bytes, its name and its SHA-256."""

    data: bytes
    name: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def keep_upload(session, slot: str, upload: Upload) -> str | None:
    """Keep ``upload`` in ``slot`` of the session (replacing what was there, so a
    session never holds more than one file per page); returns its token, or None
    when the file is too large to keep."""
    session.pop(slot, None)
    if len(upload.data) > KEEP_MAX_BYTES:
        return None
    token = secrets.token_urlsafe(16)
    session[slot] = {
        "token": token,
        "name": upload.name,
        "digest": upload.digest,
        "data": base64.b64encode(upload.data).decode("ascii"),
    }
    return token


def kept_upload(session, slot: str, token: str, digest: str) -> Upload | None:
    """The file kept under ``token``, if it is still there and still those bytes."""
    kept = session.get(slot)
    if not token or not isinstance(kept, dict) or kept.get("token") != token:
        return None
    try:
        upload = Upload(base64.b64decode(kept["data"], validate=True), kept.get("name", ""))
    except (KeyError, TypeError, binascii.Error):
        return None
    return upload if upload.digest == digest == kept.get("digest") else None


def drop_upload(session, slot: str) -> None:
    session.pop(slot, None)


class KeptFileForm(forms.Form):
    """A form with a file that may instead come from the session (see the module
    docstring). ``cleaned_data["upload"]`` is the :class:`Upload` either way."""

    slot = ""
    needs_file = True  # False when the submit does not use the file (saving a mapping)
    file = forms.FileField(
        label=_("file"), required=False, widget=UnfoldAdminFileFieldWidget, allow_empty_file=True
    )
    kept = forms.CharField(required=False, widget=forms.HiddenInput)
    kept_digest = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session
        self.kept_name = ""
        if self.is_bound:
            upload = kept_upload(
                session, self.slot, self.data.get("kept", ""), self.data.get("kept_digest", "")
            )
            self.kept_name = upload.name if upload else ""

    def clean(self):
        cleaned_data = super().clean()
        given = cleaned_data.get("file")
        if given is not None:
            cleaned_data["upload"] = Upload(given.read(), given.name or "")
            return cleaned_data
        upload = kept_upload(
            self.session,
            self.slot,
            cleaned_data.get("kept", ""),
            cleaned_data.get("kept_digest", ""),
        )
        if upload is not None:
            cleaned_data["upload"] = upload
        elif self.needs_file:
            self.add_error("file", gettext("Choose the file."))
        return cleaned_data

    def keep(self, upload: Upload) -> None:
        """Keep the file for the next submit and say so in the hidden fields."""
        token = keep_upload(self.session, self.slot, upload)
        data = self.data.copy()
        data["kept"] = token or ""
        data["kept_digest"] = upload.digest if token else ""
        self.data = data
        self.kept_name = upload.name if token else ""

    def forget(self) -> None:
        drop_upload(self.session, self.slot)


# --- Receiving accounts -----------------------------------------------------------------


class PrettyJSONField(forms.JSONField):
    """JSON shown indented, so a column mapping can be read and edited by hand."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


class BankAccountForm(ServiceModelForm):
    """Add and change form of a receiving account. A column mapping is accepted
    only in a shape the CSV/Excel reader understands, and is stored normalised."""

    class Meta:
        model = BankAccount
        fields = (
            "code",
            "name",
            "kind",
            "bank",
            "account_number",
            "holder",
            "currency",
            "default_format",
            "column_mapping",
            "receives_transfers",
            "active",
        )
        field_classes = {"column_mapping": PrettyJSONField}
        widgets = {"column_mapping": UnfoldAdminTextareaWidget(attrs={"rows": 14})}

    def clean_column_mapping(self):
        value = self.cleaned_data.get("column_mapping")
        try:
            return column_mapping_check(value)
        except BusinessError as error:
            raise forms.ValidationError(error.messages()) from error


# --- Statement import ----------------------------------------------------------------------


@dataclass
class StatementPreview:
    """What an import of the file would read, without writing anything."""

    format: str
    format_label: str
    mapping: str = ""
    lines_read: int = 0
    lines: list[ParsedLine] = field(default_factory=list)
    raw_rows: list[list[str]] = field(default_factory=list)
    movement: bool = True
    already_imported: Statement | None = None


def chosen_format(account: BankAccount, upload: Upload, format: str) -> str:
    """The format an import will read the file as: the one chosen, else the
    account's default, else the one the content shows (as the import decides)."""
    if format and format != AUTO:
        return format
    return account.default_format or detect_format(upload.data, upload.name)


def account_mapping(account: BankAccount, fmt: str):
    """The account's saved column mapping, for the tabular formats."""
    if not account.column_mapping or fmt not in TABULAR_FORMATS:
        return None
    from .parsers.tabular import ColumnMapping

    return ColumnMapping.from_dict(account.column_mapping)


def first_rows(upload: Upload, *, kind: str | None = None, rows: int = PREVIEW_LINES):
    """The first rows of a tabular file as read, before any mapping applies, so
    staff can see which header texts a mapping has to name."""
    from .parsers.tabular import preview_rows

    try:
        return preview_rows(upload.data, filename=upload.name, kind=kind, rows=rows)
    except StatementParseError:
        return []


class StatementImportForm(KeptFileForm):
    """Account, file and format of a statement to preview, then import."""

    slot = "reconciliation.statement_import"

    account = forms.ModelChoiceField(
        label=_("receiving account"),
        queryset=BankAccount.objects.filter(active=True),
        widget=UnfoldAdminSelectWidget,
    )
    format = forms.ChoiceField(
        label=_("format"), choices=FORMAT_CHOICES, initial=AUTO, widget=UnfoldAdminSelectWidget
    )
    field_order = ("account", "file", "format")

    def preview(self) -> StatementPreview | None:
        """Read the file as the import would; a file that cannot be read puts the
        parser's line-numbered message on the file field and returns None."""
        account = self.cleaned_data["account"]
        upload = self.cleaned_data["upload"]
        try:
            fmt = chosen_format(account, upload, self.cleaned_data["format"])
            result = StatementPreview(
                format=fmt,
                format_label=str(StatementFormat(fmt).label),
                movement=fmt in MOVEMENT_FORMATS,
                already_imported=Statement.objects.filter(account=account, digest=upload.digest)
                .select_related("imported_by")
                .first(),
            )
            if not result.movement:
                return result
            parsed = parse_statement(
                upload.data,
                format=fmt,
                filename=upload.name,
                mapping=account_mapping(account, fmt),
            )
        except StatementParseError as error:
            self.add_error("file", str(error))
            return None
        except (ValueError, KeyError) as error:  # an unknown format, an unusable saved mapping
            self.add_error(None, str(error))
            return None
        result.mapping = parsed.mapping
        result.lines_read = len(parsed.lines)
        result.lines = list(parsed.lines[:PREVIEW_LINES])
        if fmt in TABULAR_FORMATS:
            result.raw_rows = first_rows(upload, kind=fmt)
        return result


# --- Column mapping preview ---------------------------------------------------------------

DETECT = ""
SAVED = "saved"
TYPED = "typed"


class MappingPreviewForm(KeptFileForm):
    """A sample export read with a chosen mapping, and the mapping typed in to try
    (and then save) for a bank the built-in mappings do not know."""

    slot = "reconciliation.mapping_preview"

    # Empty is a choice: detect the built-in mapping that fits.
    mapping = forms.ChoiceField(
        label=_("read with"), required=False, widget=UnfoldAdminSelectWidget
    )
    mapping_json = PrettyJSONField(
        label=_("column mapping"),
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 16, "class": "font-mono"}),
        help_text=_(
            "JSON: name, label, booked_on, amount (or credit and debit, or amount with "
            "direction, credit_words and debit_words), currency or default_currency, "
            "reference, narrative, counterparty_name, counterparty_account, date_formats. "
            "Each column is a header text, or a list of alternatives."
        ),
    )
    field_order = ("file", "mapping", "mapping_json")

    def __init__(self, *args, account: BankAccount, **kwargs):
        from .parsers.tabular import BUILTIN_MAPPINGS

        super().__init__(*args, **kwargs)
        self.account = account
        choices = [(DETECT, gettext("A built-in mapping that fits the file"))]
        if account.column_mapping:
            choices.append((SAVED, gettext("This account's saved mapping")))
        choices.append((TYPED, gettext("The mapping typed below")))
        choices += [(name, mapping.label) for name, mapping in BUILTIN_MAPPINGS.items()]
        self.fields["mapping"].choices = choices
        self.fields["mapping"].initial = SAVED if account.column_mapping else DETECT
        self.fields["mapping_json"].initial = account.column_mapping or _mapping_template(account)
        self.fields["file"].label = gettext("sample export")

    def clean_mapping_json(self):
        value = self.cleaned_data.get("mapping_json")
        if value in (None, "", {}) and self.data.get("step") == "save":
            raise forms.ValidationError(gettext("Type the mapping to save."))
        return value

    def selected_mapping(self):
        """The ColumnMapping to read with (None: detect a built-in one)."""
        from .parsers.tabular import BUILTIN_MAPPINGS, ColumnMapping

        choice = self.cleaned_data["mapping"]
        if choice == SAVED:
            return ColumnMapping.from_dict(self.account.column_mapping)
        if choice == TYPED:
            return ColumnMapping.from_dict(self.cleaned_data.get("mapping_json") or {})
        return BUILTIN_MAPPINGS.get(choice)

    def preview(self) -> dict:
        """The sample's first rows as read and its first lines as parsed, or the
        reason the mapping does not fit."""
        from .parsers.tabular import MappingError, parse_tabular

        upload = self.cleaned_data["upload"]
        result = {"raw_rows": first_rows(upload), "lines": [], "error": "", "mapping": None}
        try:
            mapping = self.selected_mapping()
            parsed = parse_tabular(upload.data, filename=upload.name, mapping=mapping)
        except MappingError as error:
            result["error"] = " ".join(error.messages)
            return result
        except StatementParseError as error:
            result["error"] = str(error)
            return result
        except (ValueError, TypeError, KeyError) as error:
            result["error"] = str(error)
            return result
        from .parsers.tabular import BUILTIN_MAPPINGS

        used = mapping or BUILTIN_MAPPINGS.get(parsed.mapping)
        result["lines"] = list(parsed.lines[:PREVIEW_LINES])
        result["lines_read"] = len(parsed.lines)
        result["mapping"] = used
        result["mapping_json"] = (
            json.dumps(used.to_dict(), ensure_ascii=False, indent=2) if used else ""
        )
        return result

    def checked_mapping(self) -> dict | None:
        """The typed mapping as the service accepts it; refusals go on the field."""
        try:
            return column_mapping_check(self.cleaned_data.get("mapping_json"))
        except BusinessError as error:
            detail = error.detail if isinstance(error.detail, dict) else {}
            self.add_error(
                "mapping_json", error_messages(detail.get("column_mapping", error.messages()))
            )
            return None


def _mapping_template(account: BankAccount) -> dict:
    """A starting point for a bank the built-ins do not know: the generic
    corporate layout, renamed after the account."""
    from .parsers.tabular import BUILTIN_MAPPINGS

    template = BUILTIN_MAPPINGS.get("cn_corporate")
    if template is None:
        return {"name": account.code.lower(), "booked_on": [], "amount": []}
    return {
        **template.to_dict(),
        "name": account.code.lower(),
        "label": account.name,
    }
