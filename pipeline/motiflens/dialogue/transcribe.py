"""Speech → timed segments with faster-whisper.

Mixed zh/en dialogue must not be forced into one language. The audio is cut by VAD into speech
regions (pauses between lines). The episode's languages are detected first, on windows of its speech,
then every region's (`language_id`): a region keeps its own language when sure of it and otherwise
speaks the episode language its detection resembles. Neighbouring regions of one language are grouped
into chunks, each decoded on its own, in its own language, with only that language's prompt: no text of
another language conditions it. Times of every segment and word are from the start of the video.
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from motiflens.core.config import AsrConfig
from motiflens.core.errors import ConfigError
from motiflens.core.log import get_logger
from motiflens.core.records import Segment, Word
from motiflens.dialogue.guards import SpeechSegment, apply_guards, build_guards
from motiflens.dialogue.language_id import Detection, EpisodeLanguages, episode_languages, line_language, speech_windows
from motiflens.dialogue.text import collapse_spaces, has_cjk, has_latin, to_simplified
from motiflens.dialogue.whisper_model import WhisperWeights, at_least

log = get_logger("asr")

SAMPLE_RATE = 16000
#: Whisper follows the script of its prompt: a Simplified prompt keeps base models off Traditional.
#: "This is dialogue from a short drama": on the samples it also transcribed better than the common
#: "以下是普通话的句子" (which base models echo as "以下…" at the start of lines).
SIMPLIFIED_PROMPTS = {"zh": "这是一部短剧的对白。"}
COMPUTE_TYPES = {"cpu": "int8", "cuda": "float16"}


@dataclass(frozen=True)
class SpeechChunk:
    """Audio decoded in one go, in one language."""

    start: float
    end: float
    language: str
    language_probability: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {
            "start_seconds": round(self.start, 3),
            "end_seconds": round(self.end, 3),
            "language": self.language,
            "language_probability": round(self.language_probability, 3),
        }


def check_languages(config: AsrConfig) -> None:
    """Refuse language codes Whisper does not know before any work starts (they would be ignored)."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # the codes Whisper's tokenizer has tokens for

    asked = [*config.languages, *([config.language] if config.language else [])]
    unknown = sorted(set(asked) - set(_LANGUAGE_CODES))
    if unknown:
        raise ConfigError(f"asr: unknown language code(s) {unknown}; Whisper knows {' '.join(_LANGUAGE_CODES)}")


def group_chunks(regions: list[SpeechChunk], max_seconds: float, max_gap: float) -> list[SpeechChunk]:
    """Neighbouring regions of one language become one chunk while it fits `max_seconds` and no pause
    inside is longer than `max_gap`. Its probability is the duration-weighted mean of its regions'."""
    chunks: list[SpeechChunk] = []
    weights: list[float] = []
    for region in regions:
        if chunks:
            last = chunks[-1]
            fits = region.end - last.start <= max_seconds and region.start - last.end <= max_gap
            if fits and region.language == last.language:
                total = weights[-1] + region.duration
                probability = last.language_probability * weights[-1] + region.language_probability * region.duration
                chunks[-1] = replace(last, end=region.end, language_probability=probability / max(total, 1e-9))
                weights[-1] = total
                continue
        chunks.append(region)
        weights.append(region.duration)
    return chunks


def attach_translations(
    segments: list[SpeechSegment], translations: list[tuple[float, float, str]]
) -> list[SpeechSegment]:
    """Give each non-English segment the English text decoded over the same time: every translated
    piece goes to the segment it overlaps most (the nearest one when it overlaps none)."""
    targets = [index for index, segment in enumerate(segments) if segment.language != "en"]
    if not targets:
        return segments
    pieces: dict[int, list[str]] = {}
    for start, end, text in translations:

        def fit(index: int, start: float = start, end: float = end) -> tuple[float, float]:
            segment = segments[index]
            overlap = min(end, segment.end) - max(start, segment.start)
            distance = abs((start + end) / 2 - (segment.start + segment.end) / 2)
            return overlap, -distance

        pieces.setdefault(max(targets, key=fit), []).append(text)
    return [
        replace(segment, text_en=collapse_spaces(" ".join(pieces[index]))) if index in pieces else segment
        for index, segment in enumerate(segments)
    ]


@dataclass
class SpeechResult:
    segments: list[SpeechSegment]
    chunks: list[SpeechChunk]
    dropped: Counter = field(default_factory=Counter)
    episode: EpisodeLanguages | None = None  # None when asr.language forces one

    @property
    def language(self) -> str | None:
        """The language spoken longest in the kept segments (else in the chunks)."""
        spoken: defaultdict[str, float] = defaultdict(float)
        for segment in self.segments:
            spoken[segment.language] += max(segment.end - segment.start, 1e-3)
        if not spoken:
            for chunk in self.chunks:
                spoken[chunk.language] += chunk.duration
        return max(spoken, key=spoken.__getitem__) if spoken else None

    def stats(self) -> dict[str, Any]:
        seconds: defaultdict[str, float] = defaultdict(float)
        for chunk in self.chunks:
            seconds[chunk.language] += chunk.duration
        return {
            "segments": len(self.segments),
            "dropped": dict(sorted(self.dropped.items())),
            "speech_seconds_by_language": {lang: round(value, 3) for lang, value in sorted(seconds.items())},
            **({"episode_languages": self.episode.to_json()} if self.episode is not None else {}),
            "chunks": [chunk.to_json() for chunk in self.chunks],
        }


@dataclass(frozen=True)
class DecodeOptions:
    """What every faster-whisper call of a run shares."""

    prompts: dict[str, str]  # initial prompt by language
    decoding: dict[str, Any]  # transcribe() keywords

    @classmethod
    def from_config(cls, config: AsrConfig, prompts: dict[str, str]) -> DecodeOptions:
        decoding = {
            "beam_size": config.beam_size,
            "condition_on_previous_text": config.condition_on_previous_text,
            "log_prob_threshold": config.log_prob_threshold,
            # Whisper would silently drop no-speech segments itself; the guards drop and count them.
            "no_speech_threshold": None,
        }
        return cls(prompts=prompts, decoding=decoding)

    def for_task(self, language: str, task: str) -> dict[str, Any]:
        """transcribe() keywords for one call. A Chinese prompt makes the translate task answer in
        Chinese, so prompts are for transcription only. A translation is an aid: greedy, without
        Whisper's temperature fallback (up to five more decodes when a small model translates poorly),
        and with repeated trigrams banned, since greedy decoding of a poor translation loops."""
        if task == "transcribe":
            return {**self.decoding, "initial_prompt": self.prompts.get(language)}
        return {**self.decoding, "initial_prompt": None, "temperature": 0.0, "no_repeat_ngram_size": 3}


class Decoder(Protocol):
    def decode(self, audio: np.ndarray, chunks: list[SpeechChunk], task: str, words: bool) -> list[SpeechSegment]:
        """Segments of all chunks, times from the start of `audio`, in time order."""


class SequentialDecoder:
    """One chunk at a time (CPU: batching does not pay off on few cores)."""

    def __init__(self, model: Any, options: DecodeOptions) -> None:
        self.model = model
        self.options = options

    def decode(self, audio: np.ndarray, chunks: list[SpeechChunk], task: str, words: bool) -> list[SpeechSegment]:
        decoded: list[SpeechSegment] = []
        for chunk in chunks:
            piece = audio[int(chunk.start * SAMPLE_RATE) : int(chunk.end * SAMPLE_RATE)]
            segments, _ = self.model.transcribe(
                piece,
                language=chunk.language,
                task=task,
                word_timestamps=words,
                vad_filter=False,
                **self.options.for_task(chunk.language, task),
            )
            decoded.extend(to_speech_segment(segment, chunk, chunk.start) for segment in segments)
        return decoded


class BatchedDecoder:
    """CUDA: all chunks of one language decoded in batches by faster-whisper's batched pipeline."""

    def __init__(self, model: Any, options: DecodeOptions, batch_size: int) -> None:
        from faster_whisper import BatchedInferencePipeline

        self.pipeline = BatchedInferencePipeline(model)
        self.options = options
        self.batch_size = batch_size

    def decode(self, audio: np.ndarray, chunks: list[SpeechChunk], task: str, words: bool) -> list[SpeechSegment]:
        decoded = []
        for language in sorted({chunk.language for chunk in chunks}):
            group = [chunk for chunk in chunks if chunk.language == language]
            segments, _ = self.pipeline.transcribe(
                audio,
                language=language,
                task=task,
                word_timestamps=words,
                without_timestamps=False,
                clip_timestamps=[{"start": chunk.start, "end": chunk.end} for chunk in group],
                batch_size=self.batch_size,
                **self.options.for_task(language, task),
            )
            for segment in segments:  # already in video time; find the chunk for its language score
                middle = (segment.start + segment.end) / 2
                chunk = min(group, key=lambda c: 0 if c.start <= middle <= c.end else abs(middle - c.start))
                decoded.append(to_speech_segment(segment, chunk, 0.0))
        return sorted(decoded, key=lambda segment: (segment.start, segment.end))


def to_speech_segment(segment: Any, chunk: SpeechChunk, offset: float) -> SpeechSegment:
    words = None
    if segment.words is not None:
        words = tuple(
            Word(
                word=word.word.strip(),
                start_seconds=offset + float(word.start),
                end_seconds=offset + max(float(word.end), float(word.start)),
                probability=min(max(float(word.probability), 0.0), 1.0),
            )
            for word in segment.words
            if word.word.strip()
        )
    return SpeechSegment(
        start=offset + float(segment.start),
        end=offset + float(segment.end),
        text=collapse_spaces(segment.text),
        language=chunk.language,
        language_probability=chunk.language_probability,
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
        words=words,
    )


def is_english(text: str) -> bool:
    return has_latin(text) and not has_cjk(text)


def simplify(segment: SpeechSegment) -> SpeechSegment:
    words = segment.words
    if words is not None:
        words = tuple(replace(word, word=to_simplified(word.word)) for word in words)
    return replace(segment, text=to_simplified(segment.text), words=words)


#: Set by an engine that gives this process its thread count (a Ray actor: its CPU reservation).
CPU_THREADS_ENV = "MOTIFLENS_CPU_THREADS"


def available_cores() -> int:
    """Threads for CPU work: the engine's reservation when one is set, else the cores this process may run on."""
    reserved = os.environ.get(CPU_THREADS_ENV, "")
    if reserved.isdigit() and int(reserved) > 0:
        return int(reserved)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class SpeechTranscriber:
    """One Whisper model, loaded once, transcribing many tracks."""

    def __init__(self, weights: WhisperWeights, config: AsrConfig, device: str, seed: int = 0) -> None:
        self.weights = weights
        self.config = config
        self.device = device
        self.seed = seed
        self.prompts = SIMPLIFIED_PROMPTS if config.simplified_chinese else {}
        self.guards = build_guards(config, self.prompts.values())
        self.model: Any = None
        self.decoder: Decoder | None = None

    @property
    def translates(self) -> bool:
        """Whisper's translate task only on models big enough to translate (asr.translate_min_model):
        base turns 我想问我在滨海新区有房 into "I am in the military center of the military"."""
        return self.config.translate and at_least(self.weights.size, self.config.translate_min_model)

    @property
    def compute_type(self) -> str:
        return COMPUTE_TYPES[self.device] if self.config.compute_type == "auto" else self.config.compute_type

    def load(self) -> None:
        from faster_whisper import WhisperModel

        threads = self.config.cpu_threads or available_cores()
        self.model = WhisperModel(
            str(self.weights.folder), device=self.device, compute_type=self.compute_type, cpu_threads=threads
        )
        options = DecodeOptions.from_config(self.config, self.prompts)
        batched = self.device == "cuda" and self.config.batch_size > 1
        self.decoder = (
            BatchedDecoder(self.model, options, self.config.batch_size)
            if batched
            else SequentialDecoder(self.model, options)
        )
        log.info(
            "whisper %s on %s (%s, %d CPU threads)",
            self.weights.name,
            self.device,
            self.compute_type,
            threads,
        )
        if self.config.translate and not self.translates:
            log.info(
                "no English text_en from whisper %s: its size (%s) is below asr.translate_min_model (%s)",
                self.weights.name,
                self.weights.size or "unknown",
                self.config.translate_min_model,
            )

    def close(self) -> None:
        self.decoder = None
        self.model = None

    def transcribe(self, audio: np.ndarray) -> SpeechResult:
        if self.model is None or self.decoder is None:
            raise RuntimeError("SpeechTranscriber.load() was not called")
        import ctranslate2

        # Temperature fallback samples: seed per track so that results do not depend on the video order.
        ctranslate2.set_random_seed(self.seed)
        chunks, episode = self.language_chunks(audio)
        if not chunks:
            return SpeechResult(segments=[], chunks=[], episode=episode)
        segments = self.decoder.decode(audio, chunks, "transcribe", self.config.word_timestamps)
        if self.config.simplified_chinese:
            segments = [simplify(segment) if segment.language == "zh" else segment for segment in segments]
        kept, dropped = apply_guards(segments, self.guards)
        foreign = [chunk for chunk in chunks if chunk.language != "en"]
        if self.translates and foreign and kept:
            translated = self.decoder.decode(audio, foreign, "translate", False)
            # Small models sometimes "translate" into the source language; such pieces are no English.
            english = [(piece.start, piece.end, piece.text) for piece in translated if is_english(piece.text)]
            kept = attach_translations(kept, english)
        return SpeechResult(segments=kept, chunks=chunks, dropped=dropped, episode=episode)

    def speech_regions(self, audio: np.ndarray) -> list[tuple[float, float]]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        options = VadOptions(
            threshold=self.config.vad_threshold,
            min_silence_duration_ms=self.config.vad_min_silence_ms,
            speech_pad_ms=self.config.vad_pad_ms,
            max_speech_duration_s=self.config.chunk_max_seconds,
        )
        return [
            (span["start"] / SAMPLE_RATE, span["end"] / SAMPLE_RATE)
            for span in get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
        ]

    def language_chunks(self, audio: np.ndarray) -> tuple[list[SpeechChunk], EpisodeLanguages | None]:
        """Speech regions, each given its language (the episode's languages heard first), grouped into
        chunks of one language."""
        limits = (self.config.chunk_max_seconds, self.config.chunk_max_gap_seconds)
        regions = self.speech_regions(audio)
        if self.config.language is not None:
            forced = [SpeechChunk(start, end, self.config.language, 1.0) for start, end in regions]
            return group_chunks(forced, *limits), None
        if not regions:
            return [], None
        lines = {region: self.detect(audio, [region]) for region in regions}
        windows = [
            lines[window[0]] if len(window) == 1 else self.detect(audio, window)  # one region: same audio
            for window in speech_windows(regions, self.config.episode_windows)
        ]
        allowed, sure = self.config.languages, self.config.language_switch_probability
        episode = episode_languages(windows, list(lines.values()), allowed, sure)
        log.debug("episode languages: %s", episode.to_json())
        chunks = [SpeechChunk(*region, *line_language(lines[region], episode, allowed, sure)) for region in regions]
        return group_chunks(chunks, *limits), episode

    def detect(self, audio: np.ndarray, regions: list[tuple[float, float]]) -> Detection:
        """Whisper's probabilities of every language for these regions' speech, joined without the pauses."""
        piece = np.concatenate([audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] for start, end in regions])
        _, _, ranking = self.model.detect_language(audio=piece)
        detection = Detection(seconds=len(piece) / SAMPLE_RATE, probabilities=dict(ranking))
        log.debug("speech %.2f-%.2f s: %s (%.2f)", regions[0][0], regions[-1][1], *detection.top)
        return detection


def speech_records(segments: list[SpeechSegment], duration: float) -> list[Segment]:
    """Timeline segments `asr-0001`… in time order, clipped to the track."""
    ordered = sorted(segments, key=lambda segment: (segment.start, segment.end))
    records = []
    for number, segment in enumerate(ordered, start=1):
        start = min(max(segment.start, 0.0), duration)
        records.append(
            Segment(
                id=f"asr-{number:04d}",
                source="asr",
                start_seconds=start,
                end_seconds=min(max(segment.end, start), duration),
                text=segment.text,
                language=segment.language,
                text_en=segment.text_en,
                words=segment.words,
                # exp(mean token log-probability): the decoder's own certainty, in [0, 1]; with the no-speech
                # probability it tells the story stream which lines to doubt (story.reading)
                extra={
                    "confidence": round(min(1.0, math.exp(segment.avg_logprob)), 3),
                    "no_speech_prob": round(segment.no_speech_prob, 3),
                    **({"text_en_source": "whisper_translate"} if segment.text_en else {}),
                },
            )
        )
    return records
