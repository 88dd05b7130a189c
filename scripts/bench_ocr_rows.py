"""Subtitle OCR accuracy per cue: character error rate (CER) of what the OCR stage reads against the rows
that were burned in.

    .venv/bin/python scripts/bench_ocr_rows.py [--generated] [--config FILE] [--set KEY=VALUE]...

Runs the real stages (ingest for the subtitle band, then OCR) over the bundled samples (data/samples/*.mp4,
ground truth: `subtitle_rows` of each line in data/samples/samples.json) and, with `--generated`, over the
generated clip of tests/media.py (`make_subtitle_video`: one-row cues, then a wrapped English line, Chinese
over English, and Chinese over two English rows, rising from the bottom line). Prints one JSON document.

A cue's reference is its Chinese rows joined without a space and its English rows joined with one; it is
compared with the OCR segment that overlaps the cue longest (`text` for Chinese, `text_en` or an English
`text` for English; none: every character is an error). CER = edit distance / reference length, over
letters and digits (case, width and punctuation folded, as `motiflens.dialogue.text.normalise`) with one
space kept between Latin words. "multi_row" cues show more than one row (a Chinese row over English, a
wrapped line); "wrapped" cues have one language on more than one row.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from motiflens.core.config import Config, load_config
from motiflens.core.records import Segment, VideoSource
from motiflens.dialogue.text import has_cjk, normalise
from motiflens.stages.base import VideoWork
from motiflens.stages.ingest import IngestStage
from motiflens.stages.ocr import OcrStage

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
# Speech is not scored here: skip the audio work so a run only pays for ingest and OCR.
NO_SPEECH = ["audio.enabled=false", "asr.enabled=false"]


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    rows: tuple[str, ...]

    @property
    def zh(self) -> str:
        return "".join(row for row in self.rows if has_cjk(row))

    @property
    def en(self) -> str:
        return " ".join(row for row in self.rows if not has_cjk(row))


def units(text: str) -> str:
    """What CER counts: letters and digits of each word, one space between Latin words."""
    return " ".join(word for word in (normalise(token) for token in text.split()) if word)


def edit_distance(reference: str, hypothesis: str) -> int:
    """Levenshtein distance by characters (insertions, deletions, substitutions cost 1)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_char in enumerate(reference, start=1):
        current = [i]
        for j, hyp_char in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_char != hyp_char)))
        previous = current
    return previous[-1]


def read_texts(segment: Segment | None) -> tuple[str, str]:
    """(Chinese, English) of an OCR segment; English-only segments carry their English in `text`."""
    if segment is None:
        return "", ""
    if segment.language == "zh":
        return segment.text, segment.text_en or ""
    return "", segment.text


def overlapping(cue: Cue, segments: list[Segment]) -> Segment | None:
    def overlap(segment: Segment) -> float:
        return min(cue.end, segment.end_seconds) - max(cue.start, segment.start_seconds)

    best = max(segments, key=overlap, default=None)
    return best if best is not None and overlap(best) > 0 else None


def score_cue(cue: Cue, segments: list[Segment]) -> dict[str, Any]:
    """Edit distance and reference length of one cue, with what was read."""
    zh, en = read_texts(overlapping(cue, segments))
    errors = edit_distance(units(cue.zh), units(zh)) + edit_distance(units(cue.en), units(en))
    length = len(units(cue.zh)) + len(units(cue.en))
    return {"rows": list(cue.rows), "read": [zh, en], "errors": errors, "length": length}


def cer(scored: list[dict[str, Any]]) -> float | None:
    length = sum(cue["length"] for cue in scored)
    return round(sum(cue["errors"] for cue in scored) / length, 4) if length else None


def wrapped(rows: list[str]) -> bool:
    """Whether one language of the cue fills more than one row."""
    chinese = sum(1 for row in rows if has_cjk(row))
    return chinese > 1 or len(rows) - chinese > 1


def summary(scored: list[dict[str, Any]]) -> dict[str, Any]:
    multi = [cue for cue in scored if len(cue["rows"]) > 1]
    wraps = [cue for cue in scored if wrapped(cue["rows"])]
    return {
        "cues": len(scored),
        "multi_row_cues": len(multi),
        "wrapped_cues": len(wraps),
        "cer": cer(scored),
        "cer_multi_row": cer(multi),
        "cer_wrapped": cer(wraps),
    }


def sample_cues() -> dict[Path, list[Cue]]:
    manifest = json.loads((SAMPLES / "samples.json").read_text(encoding="utf-8"))
    return {
        SAMPLES / sample["file"]: [
            Cue(line["start_seconds"], line["end_seconds"], tuple(line["subtitle_rows"])) for line in sample["lines"]
        ]
        for sample in manifest["samples"]
    }


def generated_cues(folder: Path) -> dict[Path, list[Cue]]:
    """The clip tests/test_ocr_rows.py reads, made with the same generator (needs a CJK font)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import media

    if media.subtitle_font() is None:
        sys.exit(media.SUBTITLE_FONT_MISSING)
    path = media.make_subtitle_video(folder / "generated_subtitles.mp4")
    return {path: [Cue(start, end, tuple(rows)) for start, end, rows in media.SUBTITLE_CUES]}


def read_segments(
    config: Config, videos: dict[Path, list[Cue]], scratch: Path
) -> dict[Path, tuple[list[Segment], dict[str, Any]]]:
    """Each video's OCR segments, with what reading them cost: OCR stage seconds and the regions read."""
    ingest, ocr = IngestStage(config), OcrStage(config)
    ocr.prepare()
    ocr.open()
    found = {}
    for path in videos:
        source = VideoSource(path=path, relative_path=path.name, video_id=path.stem)
        work = VideoWork(source=source, workdir=scratch / path.stem)
        work.workdir.mkdir(parents=True)
        ingest.process(work)
        began = time.perf_counter()
        ocr.process(work)
        cost = {"ocr_seconds": round(time.perf_counter() - began, 2), "regions": work.stats["ocr"].get("regions")}
        segments = work.transcript.segments if work.transcript is not None else ()
        found[path] = ([segment for segment in segments if segment.source == "ocr"], cost)
    ocr.close()
    return found


@click.command()
@click.option("--generated", is_flag=True, help="Also read the generated clip of tests/media.py.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, exists=True), default=None)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Config override, as for `run`.")
def main(generated: bool, config_path: Path | None, overrides: tuple[str, ...]) -> None:
    config = load_config(config_path, [*NO_SPEECH, *overrides])
    with tempfile.TemporaryDirectory() as scratch:
        videos = sample_cues()
        if generated:
            videos |= generated_cues(Path(scratch))
        read = read_segments(config, videos, Path(scratch))
    files = {path.name: [score_cue(cue, read[path][0]) for cue in cues] for path, cues in videos.items()}
    samples = [cue for path in sample_cues() for cue in files[path.name]]
    report = {
        "config": str(config_path or "defaults"),
        "overrides": list(overrides),
        "samples": summary(samples),
        "files": {
            path.name: {**summary(files[path.name]), **read[path][1], "per_cue": files[path.name]} for path in videos
        },
    }
    click.echo(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
