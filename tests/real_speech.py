"""Real recordings composed into short vertical videos, and how well the dialogue stream hears them.

Shared by tests/test_real_speech.py and scripts/bench_real_speech.py. The recordings are in
``../shared/media/real-speech`` from the repository root (their README holds sources, licences, sha256);
the short synthetic lines are cut from the committed samples in ``data/samples``.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from media import SpeechPiece, make_speech_video
from motiflens.core.config import Config
from motiflens.core.records import Segment, VideoSource
from motiflens.dialogue.text import normalise, to_simplified
from motiflens.media.audio import AudioExtractor
from motiflens.stages.asr import AsrStage
from motiflens.stages.base import VideoWork

ROOT = Path(__file__).resolve().parents[1]
REAL_SPEECH = ROOT.parent / "shared" / "media" / "real-speech"
SAMPLES = ROOT / "data" / "samples"
#: Pieces start this long after the video does (an onset for VAD), and the video ends this long after them.
LEAD = 0.5


@dataclass(frozen=True)
class Recording:
    file: str
    language: str
    text: str  # the transcript its source project asserts
    speech: tuple[float, float]  # when it speaks, seconds into the file
    seconds: float  # its length
    sha256: str  # as in the README beside it


RECORDINGS = {
    "jfk": Recording(
        "jfk.flac",
        "en",
        "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
        (0.32, 10.9),
        11.0,
        "63a4b1e4c1dc655ac70961ffbf518acd249df237e5a0152faae9a4a836949715",
    ),
    "librispeech": Recording(
        "librispeech-1995-1837-0001.wav",
        "en",
        "IT WAS THE FIRST GREAT SORROW OF HIS LIFE IT WAS NOT SO MUCH THE LOSS OF THE COTTON ITSELF BUT THE "
        "FANTASY THE HOPES THE DREAMS BUILT AROUND IT",
        (0.14, 8.6),
        8.73,
        "a4d977939c2f673b370e7dd5840118947a8ae95f6d62d3a88f32b40c0631aaee",
    ),
    "funasr": Recording(
        "funasr_llamacpp_sample.wav",
        "zh",
        "我想问我在滨海新区有房",
        (0.77, 5.98),
        6.0,
        "ea03e1f473ad1618a03da3327a545369cb8f6f06cb0f4115535e5a866167d47e",
    ),
}


@dataclass(frozen=True)
class Utterance:
    """What a test video says from `start` to `end` (seconds into the video), and in which language."""

    language: str
    text: str
    start: float
    end: float
    source: str  # the recording or sample it is cut from


@dataclass(frozen=True)
class Case:
    """One test video: recordings (or pieces of samples) placed in time, optionally over music."""

    name: str
    pieces: tuple[SpeechPiece, ...]
    utterances: tuple[Utterance, ...]
    seconds: float
    music_db: float | None = None

    def make(self, path: Path) -> Path:
        return make_speech_video(path, self.pieces, seconds=self.seconds, music_db=self.music_db)


def recording_at(name: str, at: float) -> tuple[SpeechPiece, Utterance]:
    recording = RECORDINGS[name]
    first, last = recording.speech
    piece = SpeechPiece(REAL_SPEECH / recording.file, at)
    return piece, Utterance(recording.language, recording.text, at + first, at + last, name)


def alone(name: str) -> Case:
    piece, utterance = recording_at(name, LEAD)
    return Case(name, (piece,), (utterance,), LEAD + RECORDINGS[name].seconds + LEAD)


#: The Mandarin speech starts this long after the English ends: a reply, not a new scene.
REPLY_GAP = 1.6


def english_then_mandarin() -> Case:
    """jfk, then funasr's speech REPLY_GAP after jfk's speech ends."""
    english, said = recording_at("jfk", LEAD)
    at = said.end + REPLY_GAP - RECORDINGS["funasr"].speech[0]
    mandarin, reply = recording_at("funasr", at)
    return Case("jfk_then_funasr", (english, mandarin), (said, reply), at + RECORDINGS["funasr"].seconds + LEAD)


#: Music peak level under the speech: about 16 dB below jfk's RMS level (measured on the composed track).
MUSIC_DB = -20.0


def music_under_speech() -> Case:
    piece, utterance = recording_at("jfk", LEAD)
    return Case("jfk_over_music", (piece,), (utterance,), LEAD + RECORDINGS["jfk"].seconds + LEAD, MUSIC_DB)


#: Synthetic (espeak-ng) lines cut from the samples at their pauses (file, start, end, language, text):
#: short Mandarin lines of 1.0-1.5 s between English ones, the case where Whisper base detects Thai or
#: Japanese on the Mandarin and English outranks Chinese.
SHORT_LINES = (
    ("lantern_vow.mp4", 0.4, 3.31, "en", "This red lantern belonged to my grandmother."),
    ("paper_cutting_promise.mp4", 8.83, 10.16, "zh", "原谅我吧"),
    ("calligraphy_wedding.mp4", 0.4, 3.62, "en", "Grandpa's calligraphy is still hanging in the study."),
    ("paper_cutting_promise.mp4", 3.9, 4.95, "zh", "我发誓"),
    ("lantern_vow.mp4", 3.8, 7.47, "en", "I swear I will bring it home before the Spring Festival."),
    ("paper_cutting_promise.mp4", 7.33, 8.8, "zh", "我带了月饼"),
    ("calligraphy_wedding.mp4", 6.42, 8.8, "en", "You lied to me about the engagement!"),
)
SHORT_LINE_GAP = 0.6


def short_mandarin_lines() -> Case:
    pieces, utterances = [], []
    at = LEAD
    for file, start, end, language, text in SHORT_LINES:
        pieces.append(SpeechPiece(SAMPLES / file, at, start, end))
        utterances.append(Utterance(language, text, at, at + end - start, file))
        at += end - start + SHORT_LINE_GAP
    return Case("short_mandarin_lines", tuple(pieces), tuple(utterances), at - SHORT_LINE_GAP + LEAD)


def real_cases() -> list[Case]:
    return [alone("jfk"), alone("librispeech"), alone("funasr"), english_then_mandarin(), music_under_speech()]


def recordings_problem() -> str | None:
    """Why the recordings cannot be used (missing, or not the files their README names), or None."""
    absent = [recording.file for recording in RECORDINGS.values() if not (REAL_SPEECH / recording.file).is_file()]
    if absent:
        return (
            f"real speech recordings missing from {REAL_SPEECH}: {', '.join(absent)}. They live in shared/media/"
            "real-speech beside the repository clone (../shared/media/real-speech from its root); see its README"
        )
    changed = [
        recording.file
        for recording in RECORDINGS.values()
        if hashlib.sha256((REAL_SPEECH / recording.file).read_bytes()).hexdigest() != recording.sha256
    ]
    return (
        f"real speech recordings in {REAL_SPEECH} differ from their sha256: {', '.join(changed)}" if changed else None
    )


# Scores


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    row = list(range(len(hypothesis) + 1))
    for i, token in enumerate(reference, start=1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hypothesis, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (token != other))
    return row[-1]


def words(text: str) -> list[str]:
    """Lower case, no punctuation: "Americans," and "americans" are one word."""
    return [word for word in (normalise(raw) for raw in text.split()) if word]


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref = words(reference)
    return edit_distance(ref, words(hypothesis)) / max(len(ref), 1)


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Over characters without punctuation or spaces, Traditional folded to Simplified."""
    ref = normalise(to_simplified(reference))
    return edit_distance(ref, normalise(to_simplified(hypothesis))) / max(len(ref), 1)


def error_rate(utterance: Utterance, hypothesis: str) -> tuple[str, float]:
    """("wer", ...) for English, ("cer", ...) for Chinese: Chinese is not written in words."""
    if utterance.language == "zh":
        return "cer", character_error_rate(utterance.text, hypothesis)
    return "wer", word_error_rate(utterance.text, hypothesis)


def heard_in(utterances: Sequence[Utterance], segments: Sequence[Segment]) -> list[list[Segment]]:
    """The segments of each utterance: each segment goes to the utterance it overlaps most."""
    found: list[list[Segment]] = [[] for _ in utterances]
    for segment in segments:
        overlaps = [min(segment.end_seconds, u.end) - max(segment.start_seconds, u.start) for u in utterances]
        best = int(np.argmax(overlaps))
        if overlaps[best] > 0:
            found[best].append(segment)
    return found


def score(case: Case, segments: Sequence[Segment]) -> list[dict[str, Any]]:
    """Per utterance: what was heard, in which language(s), and its error rate."""
    rows = []
    for utterance, heard in zip(case.utterances, heard_in(case.utterances, segments), strict=True):
        text = " ".join(segment.text for segment in heard)
        metric, value = error_rate(utterance, text)
        languages = sorted({segment.language for segment in heard})
        rows.append(
            {
                "case": case.name,
                "source": utterance.source,
                "language": utterance.language,
                "heard_languages": languages,
                "language_correct": languages == [utterance.language],
                "reference": utterance.text,
                "heard": text,
                metric: round(value, 3),
                "text_en": [segment.text_en for segment in heard if segment.text_en],
            }
        )
    return rows


# Running the ASR stage


class Listener:
    """The pipeline's ASR stage, loaded once, run on case videos made in a scratch folder."""

    def __init__(self, config: Config, folder: Path) -> None:
        self.stage = AsrStage(config)
        self.folder = folder

    def open(self) -> None:
        self.stage.prepare()
        self.stage.open()

    def close(self) -> None:
        self.stage.close()

    def hear(self, case: Case) -> VideoWork:
        video = case.make(self.folder / f"{case.name}.mp4")
        work = VideoWork(
            source=VideoSource(path=video, relative_path=video.name, video_id=case.name),
            workdir=self.folder / case.name,
        )
        work.workdir.mkdir(parents=True, exist_ok=True)
        work.audio = AudioExtractor().extract(video, work.workdir / "audio.wav")
        self.stage.process(work)
        return work


@contextmanager
def listening(config: Config) -> Iterator[Listener]:
    with tempfile.TemporaryDirectory(prefix="real-speech-") as scratch:
        listener = Listener(config, Path(scratch))
        listener.open()
        try:
            yield listener
        finally:
            listener.close()
