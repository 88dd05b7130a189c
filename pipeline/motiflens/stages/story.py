"""Story: symbol mentions, plot events and identity themes from the transcript (speech and subtitles),
with audio peaks and cut-rate bursts as supporting cues."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from motiflens.core.config import Config
from motiflens.core.environment import resolve_device
from motiflens.core.log import get_logger
from motiflens.core.records import StreamStatus
from motiflens.core.taxonomy import Taxonomy, load_taxonomy, taxonomy_paths
from motiflens.media.audio import read_wav_float32
from motiflens.stages.base import Stage, VideoWork

if TYPE_CHECKING:
    from pathlib import Path

    from motiflens.story.definitions import Kind

log = get_logger("story")


class StoryStage(Stage):
    name = "story"
    stream = "story"
    loaded = ("mentions", "events", "themes")
    config_sections = ("story", "visual.builtin_taxonomy", "visual.taxonomy")
    depends_on = ("ingest", "shots", "asr", "ocr", "reconcile")
    uses_device = True

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.settings = config.story
        self.taxonomy: Taxonomy | None = None
        self.files: Any = None
        self.definitions: dict[str, Any] = {}
        self.dev_lines: Any = None
        self.mentions: Any = None
        self.events: Any = None
        self.themes: Any = None
        self.calibration: dict[str, Any] = {}

    def prepare(self) -> None:
        if not self.settings.enabled:
            return
        from motiflens.story.definitions import load_builtin, load_definitions
        from motiflens.story.devset import load_event_lines
        from motiflens.story.text_model import resolve_text_model

        self.taxonomy = load_taxonomy(taxonomy_paths(self.config.visual.builtin_taxonomy, self.config.visual.taxonomy))
        custom_files: dict[Kind, Path | None] = {
            "events": self.settings.events.definitions,
            "themes": self.settings.themes.definitions,
        }
        for kind, custom in custom_files.items():
            self.definitions[kind] = load_definitions(custom, kind) if custom is not None else load_builtin(kind)
        self.dev_lines = load_event_lines(self.settings.events.dev_set)
        self.files = resolve_text_model(self.settings)

    def open(self) -> None:
        if not self.settings.enabled:
            return
        from motiflens.story.classifier import PrototypeClassifier
        from motiflens.story.eventmodel import EventClassifier
        from motiflens.story.events import EventDetector
        from motiflens.story.mentions import MentionFinder
        from motiflens.story.text_model import TextEncoder
        from motiflens.story.themes import ThemeScorer

        if self.files is None:
            self.prepare()
        assert self.taxonomy is not None  # prepare() loaded it
        encoder = TextEncoder(self.files, resolve_device(self.config.device), self.settings.batch_size)
        zh_chars = self.settings.mentions.min_zh_term_chars
        events, themes = self.settings.events, self.settings.themes
        self.mentions = MentionFinder(self.taxonomy, self.settings.mentions, encoder)
        classifier = EventClassifier(
            self.definitions["events"], encoder, self.dev_lines, events.min_confidence, zh_chars
        )
        self.events = EventDetector(classifier, events)
        self.themes = ThemeScorer(
            PrototypeClassifier(self.definitions["themes"], encoder, themes.keyword_confidence, zh_chars), themes
        )
        self.calibration = {
            "events_model": classifier.report(),
            "themes_calibration": self.themes.classifier.calibration_report(),
        }

    def models(self) -> dict[str, dict[str, str]]:
        if self.files is None:
            return {}
        entry = self.files.to_json()
        for kind, definitions in sorted(self.definitions.items()):
            entry[f"{kind}_version"] = definitions.version
            entry[f"{kind}_hash"] = definitions.hash
        if self.dev_lines is not None:
            entry["event_dev_set_hash"] = self.dev_lines.hash
        return {"text": entry}

    def fingerprint(self) -> dict[str, Any]:
        taxonomy = self.taxonomy.hash if self.taxonomy is not None else None
        return {**self.models(), "taxonomy": taxonomy}

    def info(self) -> dict[str, Any]:
        """The event model fitted on the dev set and the theme calibration, so a reader can check every
        confidence."""
        return self.calibration

    def process(self, work: VideoWork) -> None:
        if not self.settings.enabled:
            work.streams["story"] = StreamStatus("skipped", "story.enabled is false")
            return
        from motiflens.story.cues import audio_peaks, cut_rate_bursts
        from motiflens.story.links import link_events, scene_breaks
        from motiflens.story.units import ReadingRules, dialogue_units, episode_languages

        segments = work.transcript.segments if work.transcript is not None else ()
        main_language = work.transcript.language if work.transcript is not None else None
        reading = self.settings.reading
        rules = ReadingRules(
            min_speech_confidence=reading.min_speech_confidence,
            max_no_speech_probability=reading.max_no_speech_probability,
            episode_languages=episode_languages(segments, main_language, self.config.asr.languages),
        )
        units = dialogue_units(segments, rules)
        cues = []
        settings = self.settings.events
        if settings.audio and work.audio is not None and not work.audio.silent:
            samples = read_wav_float32(work.workdir / work.audio.path)
            cues.extend(
                audio_peaks(samples, work.audio.sample_rate, settings.audio_frame_seconds, settings.audio_peak_z)
            )
        if (
            settings.cut_rate
            and work.info is not None
            and work.streams.get("shots", StreamStatus("skipped")).status == "ok"
        ):
            cues.extend(
                cut_rate_bursts(
                    work.shots,
                    work.info.duration_seconds,
                    settings.cut_rate_window_seconds,
                    settings.cut_rate_factor,
                    settings.cut_rate_min_cuts,
                )
            )
        work.mentions = self.mentions.find(units)
        breaks = scene_breaks(units, work.shots, self.settings.links.scene_pause_seconds)
        work.events = link_events(self.events.detect(units, cues), units, work.mentions, breaks, self.settings.links)
        work.themes = self.themes.score([unit for unit in units if unit.reliable])
        work.stats["story"] = {
            "sentences": len(units),
            "doubted_sentences": sum(1 for unit in units if not unit.reliable),
            "mentions": len(work.mentions),
            "events": len(work.events),
            "themes": len(work.themes),
            "audio_peaks": sum(1 for cue in cues if cue.kind == "audio"),
            "cut_bursts": sum(1 for cue in cues if cue.kind == "cut_rate"),
        }
        reason = None if units else "no dialogue in the transcript"
        work.streams["story"] = StreamStatus("ok", reason)
        log.info(
            "%s: %d mentions, %d events, %d theme scores from %d sentences",
            work.video_id,
            len(work.mentions),
            len(work.events),
            len(work.themes),
            len(units),
        )
