"""Content negotiation for a view whose ``format`` query parameter is a filter.

DRF reads ``?format=`` as the renderer to answer with (URL_FORMAT_OVERRIDE), so on
the statements list ``?format=mt940`` (the statements imported from MT940 files)
answered 404, as no renderer is called mt940. A view whose filter is named
``format`` sets ``content_negotiation_class = FormatIsAFilter``: the renderer is
then chosen from the Accept header only, and the filter gets the parameter.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.settings import api_settings


class _WithoutFormatOverride:
    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class FormatIsAFilter(DefaultContentNegotiation):
    settings = _WithoutFormatOverride()
