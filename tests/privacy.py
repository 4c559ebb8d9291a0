"""What the privacy scans share: every text value in a Prefect server's SQLite database, with its place."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def prefect_texts(path: str | Path) -> list[tuple[str, str]]:
    """(place, text) for every value of every table of the database at `path`, read-only."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        texts = []
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            cursor = con.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from sqlite_master
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        texts.append((f"Prefect table {table}.{column}", str(value)))
        return texts
    finally:
        con.close()
