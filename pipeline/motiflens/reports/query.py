"""`motiflens query`: SQL over a run's corpus tables with DuckDB, embedded (no server, nothing copied).

Every `<run>/tables/<name>.parquet` becomes a view named `<name>` (`videos`, `symbols`, `mentions`, `events`,
`segments`, `shots`, `themes`, and the series tables `series_symbols`, `series_episodes`) over `read_parquet(...)`,
in an in-memory database: a query reads the Parquet files where they lie, so a corpus of any size costs no load
step and no second copy.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motiflens.core.atomic import atomic_path
from motiflens.core.errors import ConfigError, InputError

TABLES_FOLDER = "tables"
FETCH_BATCH = 10_000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class QueryError(ConfigError):
    """The SQL did not run (a usage error: exit code 2); the message carries DuckDB's own words."""


@dataclass(frozen=True)
class QueryResult:
    """The first rows of a query's result; `more` says that the result had rows beyond `rows`."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    more: bool


def table_files(run_dir: Path) -> dict[str, Path]:
    """{view name: Parquet file} for `<run_dir>/tables/*.parquet`; InputError when there are none."""
    folder = run_dir / TABLES_FOLDER
    files = {path.stem: path for path in sorted(folder.glob("*.parquet"))} if folder.is_dir() else {}
    files = {name: path for name, path in files.items() if _NAME.match(name) and path.is_file()}
    if not files:
        raise InputError(
            f"{run_dir}: no corpus tables ({folder}/*.parquet); is this a MotifLens run folder? "
            "`motiflens run` writes them at the end of every run"
        )
    return files


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(run_dir: Path) -> Any:
    """An in-memory DuckDB connection with one view per Parquet table of the run."""
    import duckdb

    files = table_files(run_dir)
    connection = duckdb.connect(":memory:")
    for name, path in files.items():
        connection.execute(
            f"CREATE VIEW {_quote_identifier(name)} AS "
            f"SELECT * FROM read_parquet({_quote_literal(str(path.resolve()))})"
        )
    return connection


def _execute(connection: Any, sql: str, tables: Sequence[str]) -> Any:
    import duckdb

    if not sql.strip():
        raise QueryError("empty SQL: give a query, e.g. \"SELECT * FROM videos\"")
    try:
        return connection.execute(sql)
    except duckdb.Error as error:
        raise QueryError(
            f"the SQL did not run: {str(error).strip()}\n(tables here: {', '.join(tables)})"
        ) from None


def _columns(cursor: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    description = cursor.description or []
    return tuple(str(item[0]) for item in description), tuple(str(item[1]) for item in description)


def run_query(run_dir: Path, sql: str, max_rows: int = 50) -> QueryResult:
    """Run `sql` over the run's tables and keep its first `max_rows` rows."""
    if max_rows < 0:
        raise QueryError(f"--max-rows must be >= 0, got {max_rows}")
    files = table_files(run_dir)
    connection = connect(run_dir)
    try:
        cursor = _execute(connection, sql, list(files))
        columns, types = _columns(cursor)
        try:
            rows = cursor.fetchmany(max_rows + 1) if columns else []
        except Exception as error:  # duckdb raises while streaming, e.g. a conversion error in a later row
            raise QueryError(f"the SQL failed while reading its result: {str(error).strip()}") from None
    finally:
        connection.close()
    return QueryResult(columns, types, [tuple(row) for row in rows[:max_rows]], len(rows) > max_rows)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _batches(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    while batch := cursor.fetchmany(FETCH_BATCH):
        yield batch


def query_to_csv(run_dir: Path, sql: str, out_path: Path) -> int:
    """Write the whole result of `sql` to `out_path` as CSV with a header row (atomically); returns the row count."""
    files = table_files(run_dir)
    connection = connect(run_dir)
    count = 0
    try:
        cursor = _execute(connection, sql, list(files))
        columns, _ = _columns(cursor)
        if not columns:
            raise QueryError("the SQL returned no result set, so there is nothing to write as CSV")
        with atomic_path(out_path) as temp, temp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            try:
                for batch in _batches(cursor):
                    writer.writerows([_csv_value(value) for value in row] for row in batch)
                    count += len(batch)
            except Exception as error:
                raise QueryError(f"the SQL failed while reading its result: {str(error).strip()}") from None
    finally:
        connection.close()
    return count


def format_value(value: Any) -> str:
    """A cell as people read it: floats to 4 decimals without trailing zeros, nulls empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    if isinstance(value, decimal.Decimal):
        return format_value(float(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def render_table(result: QueryResult) -> Any:
    """A rich Table of the result, numbers right-aligned."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # Text objects, not str: rich would read "[red]" in a cell (a line of dialogue, say) as markup.
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name, kind in zip(result.columns, result.types, strict=True):
        numeric = kind.upper().startswith(_NUMERIC)
        table.add_column(Text(name), justify="right" if numeric else "left", overflow="fold")
    for row in result.rows:
        table.add_row(*(Text(format_value(value)) for value in row))
    return table
