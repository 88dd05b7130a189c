"""Hallucination guards: Whisper invents text over silence, music and the ends of clips. Each guard
rejects one kind of invented segment and names its reason, which run.json counts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import ClassVar

from motiflens.core.config import AsrConfig
from motiflens.core.records import Word
from motiflens.dialogue.text import normalise


@dataclass(frozen=True)
class SpeechSegment:
    """One decoded piece of speech, with the scores the guards judge. Times are from the video start."""

    start: float
    end: float
    text: str
    language: str
    language_probability: float
    avg_logprob: float
    no_speech_prob: float
    words: tuple[Word, ...] | None = None
    text_en: str | None = None


#: Lines that Whisper learnt from the credits of subtitled videos and writes over silence or music.
PHANTOM_LINES = (
    "字幕由Amara.org社区提供",
    "由Amara.org社群提供的字幕",
    "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
    "明镜与点点栏目",
    "中文字幕志愿者",
    "字幕志愿者",
    "字幕制作",
    "本字幕由",
    "谢谢观看",
    "感谢观看",
    "谢谢大家观看",
    "请订阅我的频道",
    "优优独播剧场",
    "YoYo Television Series Exclusive",
    "Subtitles by the Amara.org community",
    "Thanks for watching",
    "Thank you for watching",
    "Thank you so much for watching",
    "Please subscribe to my channel",
    "Please like and subscribe",
    "Don't forget to like and subscribe",
    "Transcription by CastingWords",
    "Subtitles by",
)


class Guard(ABC):
    reason: ClassVar[str]

    @abstractmethod
    def rejects(self, segment: SpeechSegment, previous: SpeechSegment | None) -> bool:
        """`previous` is the last segment kept so far."""


class RepeatGuard(Guard):
    """Whisper's failure loop: the same line again right after itself."""

    reason = "repeat"

    def rejects(self, segment: SpeechSegment, previous: SpeechSegment | None) -> bool:
        text = normalise(segment.text)
        return previous is not None and bool(text) and text == normalise(previous.text)


@dataclass(frozen=True)
class NoSpeechGuard(Guard):
    """Whisper's own silence test: likely no speech and an unsure decoding, both at once."""

    no_speech_threshold: float
    log_prob_threshold: float
    reason: ClassVar[str] = "no_speech"

    def rejects(self, segment: SpeechSegment, previous: SpeechSegment | None) -> bool:
        return segment.no_speech_prob > self.no_speech_threshold and segment.avg_logprob < self.log_prob_threshold


class PhantomGuard(Guard):
    """A known phantom line makes up most of the segment (a short real line may quote one)."""

    reason = "phantom"
    COVERAGE = 0.6

    def __init__(self, lines: Iterable[str] = PHANTOM_LINES) -> None:
        self.lines = tuple(line for line in (normalise(raw) for raw in lines) if line)

    def rejects(self, segment: SpeechSegment, previous: SpeechSegment | None) -> bool:
        text = normalise(segment.text)
        return bool(text) and any(line in text and len(line) >= self.COVERAGE * len(text) for line in self.lines)


class PromptEchoGuard(Guard):
    """Over unclear audio Whisper reads its own initial prompt back as speech, whole or after a word of
    the line (a short 回家吧 came out as 我以为一部短剧的对白): a piece of a prompt makes up most of it."""

    reason = "prompt_echo"
    MIN_CHARS = 4
    COVERAGE = 0.6

    def __init__(self, prompts: Iterable[str]) -> None:
        self.prompts = tuple(normalise(prompt) for prompt in prompts)

    def rejects(self, segment: SpeechSegment, previous: SpeechSegment | None) -> bool:
        text = normalise(segment.text)
        return any(
            self.echoed(text, prompt) >= max(self.MIN_CHARS, self.COVERAGE * len(text)) for prompt in self.prompts
        )

    @staticmethod
    def echoed(text: str, prompt: str) -> int:
        """Length of the longest piece of `prompt` in `text`."""
        return SequenceMatcher(None, text, prompt, autojunk=False).find_longest_match().size


class EmptyGuard(Guard):
    reason = "empty"

    def rejects(self, segment: SpeechSegment, previous: SpeechSegment | None) -> bool:
        return not normalise(segment.text)


def build_guards(config: AsrConfig, prompts: Iterable[str] = ()) -> list[Guard]:
    """`prompts`: the initial prompts Whisper was given, whose echoes are phantoms too."""
    guards: list[Guard] = [EmptyGuard(), NoSpeechGuard(config.no_speech_threshold, config.log_prob_threshold)]
    if config.drop_phantoms:
        guards += [PhantomGuard(), PromptEchoGuard(prompts)]
    if config.drop_repeats:
        guards.append(RepeatGuard())
    return guards


def apply_guards(segments: Iterable[SpeechSegment], guards: list[Guard]) -> tuple[list[SpeechSegment], Counter]:
    """Segments in time order → (kept, dropped counts by reason); the first guard that rejects names it."""
    kept: list[SpeechSegment] = []
    dropped: Counter = Counter()
    for segment in segments:
        previous = kept[-1] if kept else None
        reason = next((guard.reason for guard in guards if guard.rejects(segment, previous)), None)
        if reason is None:
            kept.append(segment)
        else:
            dropped[reason] += 1
    return kept, dropped
