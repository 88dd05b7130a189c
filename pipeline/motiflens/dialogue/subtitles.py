"""WebVTT and SRT exports of a transcript, one cue per line of dialogue.

Cues are the speech segments plus the subtitle (OCR) segments that no speech segment is linked to
(lines under music, or a video without usable audio): a line heard and shown appears once. A
translation, when there is one, is the cue's second line.
"""

from __future__ import annotations

from pathlib import Path

from motiflens.core.atomic import write_text
from motiflens.core.records import Segment, Transcript
from motiflens.dialogue.text import collapse_spaces


def cue_segments(transcript: Transcript) -> list[Segment]:
    cues = [
        segment for segment in transcript.segments if segment.source == "asr" or not segment.extra.get("linked_ids")
    ]
    return sorted(cues, key=lambda segment: (segment.start_seconds, segment.end_seconds, segment.id))


def timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def cue_lines(segment: Segment) -> list[str]:
    lines = [collapse_spaces(segment.text)]
    if segment.text_en and collapse_spaces(segment.text_en) != lines[0]:
        lines.append(collapse_spaces(segment.text_en))
    return lines


def cue_times(segment: Segment, separator: str) -> str:
    # Players drop zero-length cues; keep at least one millisecond.
    end = max(segment.end_seconds, segment.start_seconds + 0.001)
    return f"{timestamp(segment.start_seconds, separator)} --> {timestamp(end, separator)}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    blocks = ["WEBVTT"]
    for segment in cue_segments(transcript):
        body = "\n".join(_vtt_escape(line) for line in cue_lines(segment))
        blocks.append(f"{segment.id}\n{cue_times(segment, '.')}\n{body}")
    return "\n\n".join(blocks) + "\n"


def to_srt(transcript: Transcript) -> str:
    blocks = [
        f"{number}\n{cue_times(segment, ',')}\n" + "\n".join(cue_lines(segment))
        for number, segment in enumerate(cue_segments(transcript), start=1)
    ]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def write_exports(transcript: Transcript, folder: Path) -> list[Path]:
    """transcript.vtt and transcript.srt in `folder`, each replaced atomically."""
    written = []
    for name, render in (("transcript.vtt", to_vtt), ("transcript.srt", to_srt)):
        write_text(folder / name, render(transcript))
        written.append(folder / name)
    return written
