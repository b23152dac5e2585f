"""CSV exports of the agent pages: semicolons and a UTF-8 byte order mark (what French spreadsheets
open without asking), no formula injection, streamed in blocks of rows."""

import csv
import io

from django.http import StreamingHttpResponse

CSV_BLOCK_ROWS = 500  # rows written per chunk of the streamed response

FORMULA_STARTS = frozenset("=+-@\t\r")


def csv_cells(row) -> list[str]:
    """No formula injection in spreadsheets: a cell starting with = + - @ is quoted as text."""
    cells = ["" if value is None else str(value) for value in row]
    return ["'" + cell if cell[:1] in FORMULA_STARTS else cell for cell in cells]


def csv_lines(rows):
    """The CSV text (semicolons, UTF-8 byte order mark for spreadsheets), in blocks of rows."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    for index, row in enumerate(rows, start=1):
        writer.writerow(csv_cells(row))
        if index % CSV_BLOCK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(rows, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of `rows` (the header row first) named `filename`."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
