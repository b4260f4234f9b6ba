"""Cells for files that may be opened in a spreadsheet (CSV now, XLSX later): the one place where
exported values are neutralised against formula injection (OWASP "CSV injection").

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed is
run as a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` sends data away,
``=cmd|...`` ran programs in old Excel). Such a text is prefixed with a single quote, which the
spreadsheet shows as text. Numbers are written as numbers, negative ones included, so sums still
work. Imports store text as typed; only exports neutralise (docs/records.md).

Every export that can reach a spreadsheet writes its cells through ``cell`` (via ``csv_bytes``
for CSV; an XLSX writer would pass each value through ``cell`` too, as openpyxl turns a string
starting with ``=`` into a formula).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from decimal import Decimal

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(value) -> str:
    """``value`` as the text of a cell that no spreadsheet runs."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # never 1E+3
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable]) -> bytes:
    """A CSV file (UTF-8 with a byte-order mark, so Excel reads it as UTF-8) of neutralised cells."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")
