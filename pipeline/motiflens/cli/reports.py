"""`motiflens query` and `motiflens report`: SQL over a run's tables, and every page and export rebuilt."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from motiflens.cli.support import fail


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("sql")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the whole result to this CSV file instead of printing a table.")
@click.option("--max-rows", type=click.IntRange(min=0), default=50, show_default=True,
              help="Rows to print (the CSV always holds all of them).")
def query(run_dir: Path, sql: str, csv_path: Path | None, max_rows: int) -> None:
    """Run SQL over the corpus tables of RUN_DIR with DuckDB (embedded; nothing is copied or loaded first).

    Each RUN_DIR/tables/<name>.parquet is a view named <name>: videos, symbols, mentions, events, segments,
    shots, themes (columns: README "Corpus tables"). Example:

        motiflens query runs/demo "SELECT symbol_id, role, count(*) AS n FROM symbols GROUP BY ALL"
    """
    from motiflens.core.errors import MotifLensError
    from motiflens.reports.query import query_to_csv, render_table, run_query

    try:
        if csv_path is not None:
            count = query_to_csv(run_dir, sql, csv_path)
            click.echo(f"{count} row(s) → {csv_path}")
            return
        result = run_query(run_dir, sql, max_rows)
    except MotifLensError as error:
        fail(error)
        return
    if not result.columns:
        click.echo("ok (the statement returned no rows)")
        return
    from rich.console import Console

    # Outside a terminal (a pipe, a file, the README) never wrap: the table is as wide as its contents.
    console = Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 100_000)
    with console.capture() as captured:
        console.print(render_table(result))
    # rich pads the last column; trailing blanks only get in the way of diffs and pasted output.
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))
    shown = len(result.rows)
    if result.more:
        click.echo(f"showing the first {shown} rows; there are more (raise --max-rows, or --csv OUT.csv for all)")
    else:
        click.echo(f"{shown} row{'' if shown == 1 else 's'}")


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--video-base-url", metavar="URL",
              help="Label Studio tasks load each video from URL + its input path, e.g. "
                   "'/data/local-files/?d=samples/' (Label Studio's local file serving) or "
                   "'http://host:8081/' (a web server over the input folder); default: the path relative to "
                   "RUN_DIR.")
def report(run_dir: Path, video_base_url: str | None) -> None:
    """Rebuild every page and export of RUN_DIR: per-video report.html and ELAN .eaf, the Label Studio task
    file and config, and the corpus page RUN_DIR/report.html."""
    from motiflens.core.errors import MotifLensError
    from motiflens.reports.run_reports import write_run_reports

    try:
        written = write_run_reports(run_dir, video_base_url=video_base_url)
    except MotifLensError as error:
        fail(error)
        return
    pages = sum(1 for path in written if path.name == "report.html") - 1
    eafs = sum(1 for path in written if path.suffix == ".eaf")
    click.echo(f"{pages} video page(s), {eafs} ELAN file(s), Label Studio tasks in {run_dir / 'labelstudio'}")
    click.echo(f"corpus page: {run_dir / 'report.html'}")
