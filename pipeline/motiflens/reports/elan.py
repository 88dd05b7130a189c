"""ELAN export: one `.eaf` file (EAF 3.0) per video, so media scholars can check and extend the annotations.

Tiers: `transcript-asr`, `transcript-ocr`, `symbols` (`label [role]`), `events` (`type (confidence)`), `themes`
(`theme (score)`) and `shots`. ELAN refuses overlapping annotations on one tier, so overlapping items are spread
over numbered tiers (`symbols`, `symbols-2`, ...). Times are whole milliseconds.
"""

from __future__ import annotations

import mimetypes
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motiflens.core.atomic import inside, write_text
from motiflens.reports.web import relative_href

# A fixed default keeps reruns byte-identical; callers pass the run's start time when they have it.
DEFAULT_DATE = "1970-01-01T00:00:00Z"
LINGUISTIC_TYPE = "default-lt"
TIER_ORDER = ("transcript-asr", "transcript-ocr", "symbols", "events", "themes", "shots")

# Characters that XML 1.0 cannot carry at all; ElementTree would write them and produce a file no parser reads.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Span:
    """One annotation: start and end in milliseconds, end > start."""

    start_ms: int
    end_ms: int
    value: str


def to_ms(seconds: Any) -> int:
    """Timeline seconds (3 decimals) to whole milliseconds, never negative."""
    return max(0, round(float(seconds) * 1000))


def _span(start: Any, end: Any, value: str) -> Span | None:
    if not isinstance(start, int | float) or isinstance(start, bool):
        return None
    start_ms = to_ms(start)
    end_ms = to_ms(end) if isinstance(end, int | float) and not isinstance(end, bool) else start_ms
    # ELAN cannot show a zero-length annotation; a point item gets the shortest span there is.
    return Span(start_ms, max(end_ms, start_ms + 1), _NOT_XML.sub("\ufffd", value))


def _score(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) and not isinstance(value, bool) else "n/a"


def tier_spans(document: Mapping[str, Any]) -> dict[str, list[Span]]:
    """Every base tier's annotations, sorted by time; a base tier may still hold overlapping spans."""
    segments = (document.get("transcript") or {}).get("segments") or []
    by_id = {segment.get("id"): segment for segment in segments}
    raw: dict[str, list[Span | None]] = {name: [] for name in TIER_ORDER}
    for segment in segments:
        tier = "transcript-ocr" if segment.get("source") == "ocr" else "transcript-asr"
        raw[tier].append(_span(segment.get("start_seconds"), segment.get("end_seconds"), str(segment.get("text", ""))))
    for occurrence in document.get("symbols") or []:
        label = occurrence.get("label") or occurrence.get("symbol_id", "")
        value = f"{label} [{occurrence.get('role', 'unknown')}]"
        raw["symbols"].append(_span(occurrence.get("start_seconds"), occurrence.get("end_seconds"), value))
    for event in document.get("events") or []:
        value = f"{event.get('type', 'event')} ({_score(event.get('confidence'))})"
        raw["events"].append(_span(event.get("start_seconds"), event.get("end_seconds"), value))
    for theme in document.get("themes") or []:
        segment = by_id.get(theme.get("segment_id")) or {}
        start = theme.get("start_seconds", segment.get("start_seconds"))
        end = theme.get("end_seconds", segment.get("end_seconds"))
        raw["themes"].append(_span(start, end, f"{theme.get('theme', 'theme')} ({_score(theme.get('score'))})"))
    for position, shot in enumerate(document.get("shots") or []):
        value = f"shot {shot.get('index', position)}"
        raw["shots"].append(_span(shot.get("start_seconds"), shot.get("end_seconds"), value))
    return {
        name: sorted((span for span in spans if span is not None), key=lambda s: (s.start_ms, s.end_ms))
        for name, spans in raw.items()
    }


def split_overlaps(spans: Iterable[Span]) -> list[list[Span]]:
    """Spread time-sorted spans over as few rows as possible so that no row has two overlapping spans."""
    rows: list[list[Span]] = []
    for span in spans:
        for row in rows:
            if row[-1].end_ms <= span.start_ms:
                row.append(span)
                break
        else:
            rows.append([span])
    return rows


def _language_code(document: Mapping[str, Any]) -> str:
    language = (document.get("transcript") or {}).get("language")
    return language if isinstance(language, str) and re.fullmatch(r"[a-z]{2,3}", language) else "en"


def _media_url(media_file: str) -> str:
    return Path(media_file).as_uri() if media_file.startswith("/") else media_file


def to_eaf(
    document: Mapping[str, Any],
    media_file: str | None,
    *,
    relative_media_url: str | None = None,
    date: str | None = None,
) -> str:
    """The EAF 3.0 XML of one timeline. `media_file` is an absolute path or URL of the video (None: no media)."""
    run = document.get("run") or {}
    root = ET.Element(
        "ANNOTATION_DOCUMENT",
        {
            "AUTHOR": f"MotifLens {run.get('package_version', '')}".strip(),
            "DATE": date or DEFAULT_DATE,
            "FORMAT": "3.0",
            "VERSION": "3.0",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd",
        },
    )
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    if media_file is not None:
        mime = mimetypes.guess_type(media_file)[0]
        if not mime or not mime.startswith("video/"):
            mime = "video/mp4"
        descriptor = {"MEDIA_URL": _media_url(media_file), "MIME_TYPE": mime}
        if relative_media_url is not None:
            descriptor["RELATIVE_MEDIA_URL"] = relative_media_url
        ET.SubElement(header, "MEDIA_DESCRIPTOR", descriptor)

    tiers: list[tuple[str, list[Span]]] = []
    for name, spans in tier_spans(document).items():
        rows = split_overlaps(spans) or [[]]
        tiers.extend((name if number == 1 else f"{name}-{number}", row) for number, row in enumerate(rows, 1))

    # Two slots per annotation, numbered in time order (ties in annotation order) so TIME_ORDER reads sorted.
    boundaries = []
    for tier_index, (_, row) in enumerate(tiers):
        for span_index, span in enumerate(row):
            boundaries.append((span.start_ms, tier_index, span_index, 0))
            boundaries.append((span.end_ms, tier_index, span_index, 1))
    boundaries.sort()
    slot_ids: dict[tuple[int, int, int], str] = {}
    time_order = ET.SubElement(root, "TIME_ORDER")
    for number, (time_ms, tier_index, span_index, edge) in enumerate(boundaries, 1):
        slot_ids[(tier_index, span_index, edge)] = f"ts{number}"
        ET.SubElement(time_order, "TIME_SLOT", {"TIME_SLOT_ID": f"ts{number}", "TIME_VALUE": str(time_ms)})

    annotation_number = 0
    for tier_index, (tier_id, row) in enumerate(tiers):
        tier = ET.SubElement(root, "TIER", {"LINGUISTIC_TYPE_REF": LINGUISTIC_TYPE, "TIER_ID": tier_id})
        for span_index, span in enumerate(row):
            annotation_number += 1
            alignable = ET.SubElement(
                ET.SubElement(tier, "ANNOTATION"),
                "ALIGNABLE_ANNOTATION",
                {
                    "ANNOTATION_ID": f"a{annotation_number}",
                    "TIME_SLOT_REF1": slot_ids[(tier_index, span_index, 0)],
                    "TIME_SLOT_REF2": slot_ids[(tier_index, span_index, 1)],
                },
            )
            ET.SubElement(alignable, "ANNOTATION_VALUE").text = span.value
    ET.SubElement(header, "PROPERTY", {"NAME": "lastUsedAnnotationId"}).text = str(annotation_number)

    ET.SubElement(
        root,
        "LINGUISTIC_TYPE",
        {"GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": LINGUISTIC_TYPE, "TIME_ALIGNABLE": "true"},
    )
    ET.SubElement(root, "LOCALE", {"LANGUAGE_CODE": _language_code(document)})
    ET.indent(root, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_eaf(
    document: Mapping[str, Any], folder: Path, media_file: Path | None, *, date: str | None = None
) -> Path:
    """Write `<video_id>.eaf` into `folder` (atomically), linking the video absolutely and relatively."""
    video_id = str((document.get("video") or {}).get("id", "video"))
    target = inside(folder, f"{video_id}.eaf")
    if media_file is None:
        text = to_eaf(document, None, date=date)
    else:
        relative = relative_href(folder, media_file)
        text = to_eaf(
            document,
            str(media_file.resolve()),
            relative_media_url=relative if relative.startswith("../") else f"./{relative}",
            date=date,
        )
    write_text(target, text)
    return target
