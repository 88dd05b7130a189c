"""`motiflens query`: DuckDB views over a run's Parquet tables, printed or written as CSV, with clear errors."""

from __future__ import annotations

import csv
import re
import shlex
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.cli.support import EXIT_CONFIG, EXIT_INPUT, EXIT_OK
from motiflens.core.errors import InputError
from motiflens.reports.query import QueryError, connect, format_value, query_to_csv, run_query
from motiflens.reports.tables import TABLES
from run_helpers import make_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("query") / "run"
    make_run(folder)
    return folder


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["query", *args])
    return result.exit_code, result.output


def test_every_table_is_a_view_over_its_parquet_file(run_dir: Path) -> None:
    connection = connect(run_dir)
    try:
        views = dict(connection.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall())
        tables = connection.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]
    finally:
        connection.close()
    assert set(views) == set(TABLES)
    assert tables == 0  # nothing copied into the database
    for name, sql in views.items():
        assert "read_parquet" in sql and str((run_dir / "tables" / f"{name}.parquet").resolve()) in sql


def test_results_equal_the_parquet_tables(run_dir: Path) -> None:
    result = run_query(run_dir, "SELECT video_id, internalization_index FROM videos ORDER BY video_id", 100)
    expected = sorted(
        (row["video_id"], row["internalization_index"]) for row in pq.read_table(run_dir / "tables/videos.parquet")
        .to_pylist()
    )
    assert result.columns == ("video_id", "internalization_index")
    assert result.rows == expected and not result.more
    assert ("ep-02", 1.0) in result.rows and ("ep-03", None) in result.rows


def test_the_command_prints_a_readable_table(run_dir: Path) -> None:
    code, output = invoke(
        str(run_dir),
        "SELECT symbol_id, role, count(*) AS n FROM symbols GROUP BY ALL ORDER BY symbol_id, role",
    )
    assert code == EXIT_OK, output
    lines = output.splitlines()
    assert re.match(r"^\s*symbol_id\s+role\s+n\s*$", lines[0])
    rows = [line.split() for line in lines[2:-1]]
    assert rows == [
        ["dumplings", "catalyst", "1"],
        ["dumplings", "decorative", "1"],
        ["red_lantern", "catalyst", "2"],
        ["red_lantern", "referenced", "1"],
        ["spring_couplets", "catalyst", "1"],
        ["spring_couplets", "referenced", "1"],
    ]
    assert lines[-1] == "6 rows"


def test_max_rows_says_that_more_rows_exist(run_dir: Path) -> None:
    code, output = invoke(str(run_dir), "SELECT * FROM segments", "--max-rows", "2")
    assert code == EXIT_OK, output
    assert "showing the first 2 rows; there are more" in output
    result = run_query(run_dir, "SELECT segment_id FROM segments", max_rows=2)
    assert len(result.rows) == 2 and result.more


def test_csv_holds_every_row(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "segments.csv"
    code, output = invoke(str(run_dir), "SELECT video_id, segment_id, text FROM segments ORDER BY ALL",
                          "--csv", str(out), "--max-rows", "1")
    assert code == EXIT_OK, output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    expected = sorted(
        (row["video_id"], row["segment_id"], row["text"])
        for row in pq.read_table(run_dir / "tables/segments.parquet").to_pylist()
    )
    assert rows[0] == ["video_id", "segment_id", "text"]
    assert [tuple(row) for row in rows[1:]] == expected
    assert output.strip() == f"{len(expected)} row(s) → {out}"
    assert not list(tmp_path.glob(".*.part"))


def test_bad_sql_is_a_usage_error_with_duckdbs_words(run_dir: Path) -> None:
    code, output = invoke(str(run_dir), "SELEC video_id FROM videos")
    assert code == EXIT_CONFIG
    assert "error: the SQL did not run: Parser Error" in output and "SELEC" in output
    code, output = invoke(str(run_dir), "SELECT * FROM no_such_table")
    assert code == EXIT_CONFIG
    assert "Catalog Error" in output and "no_such_table" in output
    tables = "events, mentions, segments, series_episodes, series_symbols, shots, symbols, themes, videos"
    assert f"tables here: {tables}" in output
    with pytest.raises(QueryError, match="Binder Error"):
        run_query(run_dir, "SELECT no_such_column FROM videos")
    with pytest.raises(QueryError, match="empty SQL"):
        run_query(run_dir, "   ")
    with pytest.raises(QueryError, match="Conversion Error"):
        query_to_csv(run_dir, "SELECT CAST(video_id AS INTEGER) FROM videos", run_dir.parent / "x.csv")
    assert not (run_dir.parent / "x.csv").exists()


def test_a_folder_without_tables_is_an_input_error(tmp_path: Path) -> None:
    code, output = invoke(str(tmp_path), "SELECT 1")
    assert code == EXIT_INPUT
    assert "no corpus tables" in output
    code, output = invoke(str(tmp_path / "missing"), "SELECT 1")
    assert code == EXIT_INPUT
    with pytest.raises(InputError):
        run_query(tmp_path, "SELECT 1")


def test_text_from_videos_is_printed_literally(tmp_path: Path) -> None:
    make_run(tmp_path / "run", payload="[bold red]x[/bold red] <script>")
    code, output = invoke(str(tmp_path / "run"), "SELECT DISTINCT meta_note FROM videos")
    assert code == EXIT_OK, output
    assert "note [bold red]x[/bold red] <script>" in output


def test_format_value() -> None:
    assert [format_value(v) for v in (None, 0.449, 1.0, 2.5e-05, -0.0, True, 12, "a")] == [
        "", "0.449", "1", "0", "0", "true", "12", "a",
    ]


def _readme_queries() -> list[str]:
    """The SQL of every `motiflens query runs/demo "..."` command in the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    commands = re.findall(r"^\$ motiflens query runs/demo (.+)$", text, flags=re.MULTILINE)
    return [shlex.split(command)[0] for command in commands]


def test_the_readme_queries_run_on_a_run_folder(run_dir: Path) -> None:
    queries = _readme_queries()
    assert len(queries) >= 3, "the README shows three research questions answered with motiflens query"
    for sql in queries:
        try:
            run_query(run_dir, sql)
        except QueryError as error:
            pytest.fail(f"README query fails: {sql}\n{error}")
