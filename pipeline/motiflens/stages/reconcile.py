"""Reconcile: link the speech (asr) with the subtitles read on screen (ocr) into the video's one transcript.

It runs after both, so a speech setting redoes this step and not the OCR, and an OCR setting redoes it and not
the speech recognition. Without subtitles read (OCR skipped) the speech transcript stands as ASR wrote it.
"""

from __future__ import annotations

from motiflens.stages.base import Stage, VideoWork

TRANSCRIPT_FILES = ("transcript.vtt", "transcript.srt")


class ReconcileStage(Stage):
    name = "reconcile"
    config_sections = ("ocr.link_min_overlap",)
    depends_on = ("asr", "ocr")

    def cache_valid(self, work: VideoWork) -> bool:
        return work.transcript is None or all((work.workdir / name).is_file() for name in TRANSCRIPT_FILES)

    def process(self, work: VideoWork) -> None:
        from motiflens.dialogue.reconcile import linked_transcript
        from motiflens.dialogue.subtitles import write_exports

        ocr = work.streams.get("ocr")
        if ocr is None or ocr.status != "ok":
            return
        work.transcript, work.stats["reconcile"] = linked_transcript(
            work.transcript, work.subtitles, self.config.ocr.link_min_overlap
        )
        write_exports(work.transcript, work.workdir)
