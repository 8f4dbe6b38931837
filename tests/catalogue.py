"""Checks shared by the tests of the project's zh_Hans gettext catalogues.

test_locale.py checks locale/zh_Hans (the project's own strings) and
test_theme_locale.py checks feemgmt/theme_locale/zh_Hans (django-unfold and
django-filter); both read their .po with babel and hold it, and the .mo compiled
from it, to the same rules.
"""

import gettext
import re
from collections import Counter

from babel.messages.pofile import read_po

# printf-style placeholders (with flags, width and precision: %(seconds).1f, %.2fs),
# str.format fields, and `code` the API docs quote (field names and status values).
NAMED = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{\w*\}|`[^`]+`")
POSITIONAL = re.compile(r"%(?!\()[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%")

# Every zh_Hans catalogue has one plural form.
PLURAL_FORMS = "nplurals=1;plural=0;"


def read(path):
    with path.open("rb") as f:
        return read_po(f)


def entries(catalog):
    """The catalogue's messages, without the header entry."""
    return [message for message in catalog if message.id]


def singular(message):
    return message.id[0] if message.pluralizable else message.id


def strings(message):
    return list(message.string) if message.pluralizable else [message.string]


def label(message):
    context = f"{message.context}\x04" if message.context else ""
    return f"{context}{singular(message)!r}"


def placeholders(text):
    """Named placeholders by count, positional ones in order."""
    return Counter(NAMED.findall(text)), POSITIONAL.findall(text)


def assert_header(po_path):
    # Read the header as written: babel normalises the values it reports.
    raw = po_path.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "#, fuzzy" not in raw, "the header is marked fuzzy"
    headers = dict(re.findall(r'^"([\w-]+): (.*)\\n"$', raw, re.MULTILINE))
    assert headers["Language"] == "zh_Hans"
    assert headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert headers["Plural-Forms"].replace(" ", "") == PLURAL_FORMS


def assert_complete(catalog, *, min_entries, hint):
    """Every entry translated with one plural form, none fuzzy, none obsolete;
    `hint` says how to regenerate the catalogue."""
    messages = entries(catalog)

    assert len(messages) > min_entries, (
        f"{len(messages)} entries, expected more than {min_entries}: "
        f"extraction lost most of the strings ({hint})"
    )
    assert not catalog.fuzzy, "the header is marked fuzzy"
    assert not catalog.obsolete, f"obsolete entries: {hint}"
    fuzzy = [label(m) for m in messages if m.fuzzy]
    assert not fuzzy, f"fuzzy entries (review, then drop the flag): {fuzzy}"
    untranslated = [label(m) for m in messages if not all(s.strip() for s in strings(m))]
    assert not untranslated, f"untranslated entries: {untranslated}"
    wrong_forms = [label(m) for m in messages if m.pluralizable and len(m.string) != 1]
    assert not wrong_forms, f"plural entries need exactly one form (nplurals=1): {wrong_forms}"


def assert_placeholders_kept(catalog):
    """Each translation has the placeholders of its msgid (of the plural msgid
    for a plural entry)."""
    wrong = []
    for message in entries(catalog):
        sources = list(message.id) if message.pluralizable else [message.id]
        expected = placeholders(sources[-1])
        for string in strings(message):
            if placeholders(string) != expected:
                wrong.append((label(message), string))
    assert not wrong, f"placeholders changed: {wrong}"


def assert_mo_matches_po(po_path, mo_path, *, hint):
    """The .mo holds exactly the .po's translations; `hint` says how to rebuild it."""
    with mo_path.open("rb") as f:
        compiled = gettext.GNUTranslations(f)

    expected = {}
    for message in entries(read(po_path)):
        key = f"{message.context}\x04{singular(message)}" if message.context else None
        if message.pluralizable:
            for index, string in enumerate(message.string):
                expected[(key or message.id[0], index)] = string
            for n in (0, 1, 2, 5):
                if message.context:
                    got = compiled.npgettext(message.context, *message.id, n)
                else:
                    got = compiled.ngettext(*message.id, n)
                assert got == message.string[0], label(message)
        else:
            expected[key or message.id] = message.string
            if message.context:
                got = compiled.pgettext(message.context, message.id)
            else:
                got = compiled.gettext(message.id)
            assert got == message.string, label(message)

    compiled_messages = {k: v for k, v in compiled._catalog.items() if k != ""}
    assert compiled_messages == expected, f"the .mo is stale: {hint}"
    assert compiled.info()["language"] == "zh_Hans"
    assert compiled.info()["plural-forms"].replace(" ", "") == PLURAL_FORMS


def differing_wording(catalog, reference):
    """{msgid: (reference strings, our strings)} for the entries `reference`
    translates (not fuzzy, every form filled in) with other wording."""
    differing = {}
    for message in entries(catalog):
        other = reference.get(message.id, context=message.context)
        if other is None or other.fuzzy or not all(strings(other)):
            continue
        if strings(other) != strings(message):
            differing[singular(message)] = (strings(other), strings(message))
    return differing
