"""ASR: Whisper (faster-whisper) over each video's extracted audio track → transcript segments."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from motiflens.core.config import Config
from motiflens.core.environment import resolve_device
from motiflens.core.log import get_logger
from motiflens.core.records import StreamStatus, Transcript
from motiflens.media.audio import read_wav_float32
from motiflens.stages.base import Stage, VideoWork

if TYPE_CHECKING:
    from motiflens.dialogue.transcribe import SpeechTranscriber
    from motiflens.dialogue.whisper_model import WhisperWeights

log = get_logger("asr")


class AsrStage(Stage):
    name = "asr"
    stream = "asr"
    loaded = ("transcriber",)
    config_sections = ("asr", "seed")
    depends_on = ("ingest",)
    uses_device = True

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.weights: WhisperWeights | None = None
        self.transcriber: SpeechTranscriber | None = None

    def prepare(self) -> None:
        if self.config.asr.enabled:
            from motiflens.dialogue.transcribe import check_languages
            from motiflens.dialogue.whisper_model import WhisperResolver

            check_languages(self.config.asr)
            self.weights = WhisperResolver(self.config.asr).resolve()

    def open(self) -> None:
        if not self.config.asr.enabled:
            return
        from motiflens.dialogue.transcribe import SpeechTranscriber

        if self.weights is None:  # a caller that skipped prepare(); resolving is idempotent
            self.prepare()
        assert self.weights is not None  # asr is enabled, so prepare() resolved them (or raised)
        device = resolve_device(self.config.device)
        self.transcriber = SpeechTranscriber(self.weights, self.config.asr, device, seed=self.config.seed)
        self.transcriber.load()

    def cache_valid(self, work: VideoWork) -> bool:
        return work.transcript is None or all(
            (work.workdir / name).is_file() for name in ("transcript.vtt", "transcript.srt")
        )

    def models(self) -> dict[str, dict[str, str]]:
        return {"speech": self.weights.to_json()} if self.weights is not None else {}

    def process(self, work: VideoWork) -> None:
        skipped = self._skip_reason(work)
        if skipped is not None:
            work.streams["asr"] = skipped
            return
        from motiflens.dialogue.subtitles import write_exports
        from motiflens.dialogue.transcribe import speech_records

        # Not skipped: the video has audio and asr is enabled, so open() loaded the transcriber.
        assert work.audio is not None and self.transcriber is not None
        audio = np.array(read_wav_float32(work.workdir / work.audio.path), dtype=np.float32)
        result = self.transcriber.transcribe(audio)
        segments = speech_records(result.segments, work.audio.duration_seconds)
        work.transcript = Transcript(language=result.language, segments=tuple(segments))
        write_exports(work.transcript, work.workdir)
        work.stats["asr"] = {
            "audio_seconds": round(work.audio.duration_seconds, 3),
            "language": result.language,
            **result.stats(),
        }
        work.streams["asr"] = StreamStatus("ok") if segments else StreamStatus("ok", "no speech recognised")
        log.info(
            "%s: %d speech segments (%s), dropped %s",
            work.video_id,
            len(segments),
            result.language,
            dict(result.dropped) or "none",
        )

    def _skip_reason(self, work: VideoWork) -> StreamStatus | None:
        if not self.config.asr.enabled:
            return StreamStatus("skipped", "asr.enabled is false")
        if work.audio is None:
            audio = work.streams.get("audio")
            why = audio.reason if audio is not None and audio.reason else "no audio track"
            return StreamStatus("failed" if audio is not None and audio.status == "failed" else "skipped", why)
        if work.audio.silent:
            return StreamStatus("skipped", f"silent audio track (peak {work.audio.peak:.1e})")
        return None
