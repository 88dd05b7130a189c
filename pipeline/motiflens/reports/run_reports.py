"""Every page and export of a run, rebuilt from run.json, the timelines and the corpus tables.

For each `ok` video: `videos/<id>/report.html` (the timeline page) and `videos/<id>/<id>.eaf` (ELAN). For the run:
`labelstudio/tasks.json` + `labelstudio/config.xml` (one verification task per symbol occurrence), the corpus
page `report.html` and one page per series, `series/<name>.html`. Every file is written atomically, and the bytes
depend only on the run's outputs (no wall clock: the ELAN date is the fixed `elan.DEFAULT_DATE`), so calling this
twice gives identical files.

Label Studio loads videos by URL. By default a task's `video` is the video's path relative to the run folder
(URL-encoded). With `video_base_url` the URL is that prefix + the video's path as given to `motiflens run`
(relative to the input folder or manifest, URL-encoded): e.g. `/data/local-files/?d=samples/` for Label Studio's
own local-file serving (LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true, LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT set to
the folder above `samples/`), or `http://host:8081/` for a web server over the input folder.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from motiflens.core.atomic import inside, write_json, write_text
from motiflens.core.runfiles import read_run_json, read_timeline, timeline_path
from motiflens.reports.corpus.page import write_corpus_page
from motiflens.reports.elan import DEFAULT_DATE, write_eaf
from motiflens.reports.labelstudio import labelstudio_config, to_labelstudio_tasks
from motiflens.reports.series_page import write_series_pages
from motiflens.reports.tables import write_tables
from motiflens.reports.video_page import write_video_page
from motiflens.reports.web import relative_href

LABELSTUDIO_FOLDER = "labelstudio"


def _video_url(run_dir: Path, entry: dict[str, Any], video_file: Path | None, base_url: str | None) -> str:
    path = str(entry.get("path") or (video_file.name if video_file else entry.get("video_id")))
    if base_url is not None:
        joiner = "" if base_url.endswith(("/", "=")) else "/"
        return base_url + joiner + "/".join(quote(part) for part in PurePosixPath(path).parts)
    if video_file is not None:
        return relative_href(run_dir, video_file)
    return quote(path)


def write_run_reports(run_dir: Path, *, video_base_url: str | None = None) -> list[Path]:
    """Write every report and export of the run in `run_dir`; returns the files written.

    Needs run.json and the timelines of its ok videos; builds the corpus tables first if the run has none.
    """
    run_dir = Path(run_dir)
    run = read_run_json(run_dir)
    written: list[Path] = []
    tasks: list[dict[str, Any]] = []
    for entry in run.get("videos") or []:
        if not isinstance(entry, dict) or entry.get("status") != "ok":
            continue
        video_id = str(entry.get("video_id"))
        document = read_timeline(run_dir, entry)
        folder = timeline_path(run_dir, entry).parent
        video_file = Path(entry["file"]) if entry.get("file") else None
        written.append(write_video_page(document, folder, video_file))
        written.append(write_eaf(document, folder, video_file, date=DEFAULT_DATE))
        document_id = str((document.get("video") or {}).get("id", video_id))
        url = _video_url(run_dir, entry, video_file, video_base_url)
        # One document at a time: the tasks are small, the timelines of a large corpus are not.
        tasks.extend(to_labelstudio_tasks([document], {document_id: url}))

    labelstudio = inside(run_dir, LABELSTUDIO_FOLDER)
    tasks_file = labelstudio / "tasks.json"
    write_json(tasks_file, tasks)  # the same JSON that labelstudio.write_labelstudio writes
    written.append(tasks_file)
    config = labelstudio / "config.xml"
    write_text(config, labelstudio_config())
    written.append(config)

    if not (run_dir / "tables" / "videos.parquet").is_file():
        written.extend(write_tables(run_dir))
    written.append(write_corpus_page(run_dir))
    written.extend(write_series_pages(run_dir))
    return written

