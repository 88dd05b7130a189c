"""The one declarative config schema. YAML files, `--set key=value` and `config show` all go through it.

Every default lives here. Unknown keys and out-of-range values fail with the dotted path of the key
and what it allows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from motiflens.core.errors import ConfigError
from motiflens.core.yamlfile import parse_yaml, read_yaml_mapping


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class InputConfig(Section):
    extensions: tuple[str, ...] = Field(
        (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".flv", ".ts", ".mpg", ".mpeg", ".3gp"),
        description="File name endings treated as videos when scanning folders (case-insensitive).",
    )
    recursive: bool = Field(True, description="Scan sub-folders.")
    include_hidden: bool = Field(False, description="Include files and folders whose name starts with '.'.")
    follow_symlinks: bool = Field(True, description="Follow symlinked folders (loops are detected).")
    min_duration_seconds: float = Field(1.0, ge=0, le=3600, description="Shorter videos are skipped with a reason.")


class FramesConfig(Section):
    sample_fps: float = Field(1.0, gt=0, le=30, description="Regularly sampled frames per second.")
    max_side: int = Field(
        1280, ge=64, le=8192, description="Decoded frames are downscaled so their long side is at most this."
    )
    shot_first_frames: bool = Field(True, description="Also sample the first frame of every shot.")
    decode_threads: int = Field(0, ge=0, le=64, description="FFmpeg decoder threads; 0 lets FFmpeg choose.")
    seek_gap_seconds: float = Field(
        4.0, ge=0, le=600, description="Seek instead of decoding through gaps longer than this."
    )


class TilesConfig(Section):
    overlap: float = Field(0.25, ge=0, le=0.75, description="Minimum overlap between neighbouring square tiles.")
    full_frame: bool = Field(False, description="Also score the whole picture, padded to a square.")


class BandsConfig(Section):
    detect_letterbox: bool = Field(True, description="Find black bars and blurred padding at the edges.")
    detect_subtitles: bool = Field(True, description="Find the burned-in subtitle band.")
    analysis_frames: int = Field(24, ge=1, le=600, description="Frames spread over the video used to find bands.")
    flat_ratio: float = Field(
        0.15, gt=0, lt=1, description="An edge row whose detail is below this share of the picture's is padding."
    )
    min_band_fraction: float = Field(0.03, ge=0, lt=0.5, description="Ignore edge bands thinner than this.")
    subtitle_search_top: float = Field(
        0.5, ge=0, lt=1, description="Subtitles are looked for below this fraction of the picture height."
    )
    subtitle_min_presence: float = Field(
        0.15, gt=0, le=1, description="Share of frames that must show text in the band."
    )
    subtitle_row_min_frames: int = Field(
        2,
        ge=1,
        le=600,
        description="A text row stacked onto the band (a cue wrapped onto more rows, a Chinese row over the "
        "English one) joins it when it shows text together with the band in at least this many frames.",
    )
    subtitle_search_upper: float = Field(
        0.3,
        ge=0,
        lt=1,
        description="Subtitles at the top are looked for above this fraction of the picture height, and count "
        "only where their text changes (a fixed title is not dialogue); 0 looks at the bottom only.",
    )


class AudioConfig(Section):
    enabled: bool = Field(True, description="Extract the audio track for the dialogue stream.")
    sample_rate: Literal[16000] = Field(16000, description="Whisper's rate; fixed.")


class RunConfig(Section):
    chunk_videos: int = Field(
        32,
        ge=1,
        le=100_000,
        description="Local engine: videos per chunk, each model runs over a whole chunk before the next. Both "
        "engines rewrite run.json after this many finished videos.",
    )
    fail_fast: bool = Field(False, description="Stop at the first failed video.")
    prefetch_frames: int = Field(
        8, ge=0, le=256, description="Frames decoded ahead in a worker thread while models run; 0 turns it off."
    )


class AsrConfig(Section):
    enabled: bool = Field(True, description="Transcribe speech with Whisper.")
    model: str = Field(
        "whisper-base",
        min_length=1,
        description="A speech model name from models/ (`motiflens models list`) or the path of a CTranslate2 "
        "Whisper folder.",
    )
    allow_download: bool = Field(
        True,
        description="Download a hub model missing from the cache, verified (HF_HUB_OFFLINE=1 still forbids it).",
    )
    compute_type: Literal["auto", "int8", "int8_float16", "float16", "float32"] = Field(
        "auto", description="CTranslate2 precision; auto is int8 on CPU and float16 on CUDA."
    )
    cpu_threads: int = Field(0, ge=0, le=256, description="Model threads on CPU; 0: one per available core.")
    batch_size: int = Field(
        16,
        ge=1,
        le=256,
        description="On CUDA, speech chunks decoded together (faster-whisper's batched pipeline); 1 decodes "
        "one at a time, as CPU always does.",
    )
    beam_size: int = Field(5, ge=1, le=16, description="Beam search width.")
    language: str | None = Field(
        None,
        pattern=r"^[a-z]{2,3}$",
        description="Force one language (e.g. zh) for all speech; unset detects the episode's languages, then "
        "each line's.",
    )
    languages: tuple[str, ...] = Field(
        (),
        description="Detect only among these languages (e.g. [zh, en]); empty allows all that Whisper knows.",
    )
    language_switch_probability: float = Field(
        0.7,
        ge=0,
        le=1,
        description="A line (pause-delimited speech region) keeps the language detected on it only when "
        "detected at least this surely, over all languages; an unsure line speaks the episode language its "
        "detection resembles. Languages detected this surely on a line or window are the episode's.",
    )
    episode_windows: int = Field(
        5,
        ge=1,
        le=20,
        description="Before each line's, the episode's languages are detected on up to this many windows of "
        "30 s of speech spread over the file.",
    )
    vad_threshold: float = Field(0.5, gt=0, lt=1, description="Silero VAD speech probability threshold.")
    vad_min_silence_ms: int = Field(
        500, ge=50, le=10_000, description="A pause at least this long ends a speech region."
    )
    vad_pad_ms: int = Field(200, ge=0, le=2000, description="Padding kept around each speech region.")
    chunk_max_seconds: float = Field(
        30.0, ge=2, le=30, description="Same-language speech regions are grouped into chunks up to this long."
    )
    chunk_max_gap_seconds: float = Field(
        1.5,
        ge=0,
        le=30,
        description="Regions further apart stay in separate chunks (Whisper invents text over long pauses).",
    )
    condition_on_previous_text: bool = Field(
        False, description="Prompt each window with the previous text (more fluent, but loops on repeats)."
    )
    word_timestamps: bool = Field(True, description="Time and score every word.")
    translate: bool = Field(
        True, description="Add English (text_en, from Whisper's translate task) to non-English speech."
    )
    translate_min_model: Literal["tiny", "base", "small", "medium", "large"] = Field(
        "small",
        description="Translate only with a Whisper model at least this size, told by its name (tiny < base < "
        "small < medium < large; turbo is large); smaller ones write English that the speech does not say. "
        "A model whose name tells no size does not translate.",
    )
    simplified_chinese: bool = Field(
        True, description="Prompt Whisper for Simplified Chinese and convert any Traditional characters."
    )
    no_speech_threshold: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Drop a segment above this no-speech probability whose log-probability is also below "
        "log_prob_threshold.",
    )
    log_prob_threshold: float = Field(-1.0, ge=-20, le=0, description="See no_speech_threshold.")
    drop_repeats: bool = Field(True, description="Drop a segment that repeats the previous one.")
    drop_phantoms: bool = Field(
        True, description="Drop phantom lines Whisper invents (subtitle credits, 'thanks for watching')."
    )


class OcrConfig(Section):
    enabled: bool = Field(True, description="Read burned-in subtitles (RapidOCR, PP-OCR models).")
    sample_fps: float = Field(
        2.0, gt=0, le=10, description="Frames read per second; 2 catches every subtitle shown for 1 s."
    )
    max_side: int = Field(
        1920, ge=320, le=4096, description="Frames are decoded with their long side at most this for OCR."
    )
    scan_lower_fraction: float = Field(
        0.0,
        ge=0,
        le=0.6,
        description="For a video where ingest found no subtitle band, read this lowest share of the picture "
        "instead; 0 skips OCR for it.",
    )
    band_padding: float = Field(
        0.3, ge=0, le=1, description="The band grows by this share of its height above and below."
    )
    band_min_padding: float = Field(
        0.04,
        ge=0,
        le=0.2,
        description="The band also grows by at least this share of the picture height (about one subtitle row), "
        "so a cue that wraps onto one more row than ingest's frames showed is still read whole.",
    )
    min_width: int = Field(
        1080,
        ge=0,
        le=4096,
        description="Narrower subtitle regions are upscaled to this width before OCR (small glyphs lose the "
        "spaces between English words); 0 never upscales.",
    )
    min_confidence: float = Field(0.6, ge=0, le=1, description="Ignore text lines recognised less surely.")
    center_tolerance: float = Field(
        0.25,
        gt=0,
        le=0.5,
        description="Subtitles are centred: a line whose centre is further than this share of the width from "
        "the middle is scene text; 0.5 keeps every line.",
    )
    merge_similarity: float = Field(
        0.8, ge=0, le=1, description="Consecutive reads at least this similar are one subtitle."
    )
    reuse_max_change: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Skip recognition when a frame's text boxes match the last recognised frame's and at most "
        "this share of their pixels changed; 0 recognises every frame.",
    )
    static_max_change: float = Field(
        0.002,
        ge=0,
        le=1,
        description="Skip text detection too when at most this share of the region's pixels changed by more than "
        "a quarter of the grey range since the last detected frame (a held shot with the same subtitle); "
        "0 detects on every frame.",
    )
    max_gap_seconds: float = Field(
        0.6, ge=0, le=10, description="A subtitle survives missed reads for at most this long."
    )
    simplified_chinese: bool = Field(True, description="Convert Traditional characters read on screen.")
    link_min_overlap: float = Field(
        0.3,
        ge=0,
        le=1,
        description="An OCR and an ASR segment are linked when they overlap by at least this share of the shorter one.",
    )


class VisualConfig(Section):
    enabled: bool = Field(True, description="Detect cultural symbols on screen (CLIP zero-shot on square tiles).")
    model: str = Field(
        "clip-vit-b-32",
        min_length=1,
        description="A visual model card name from models/ (`motiflens models list`). `test` (random weights) "
        "is refused outside the test suite.",
    )
    weights: Path | None = Field(
        None, description="A local weights file (.safetensors, .bin, .pt): looked at before the model cache."
    )
    allow_download: bool = Field(
        True,
        description="Download weights missing from the cache from the Hugging Face hub, verified against the "
        "card's sha256 (HF_HUB_OFFLINE=1 still forbids it).",
    )
    on_missing_weights: Literal["skip", "error"] = Field(
        "skip",
        description="Without weights: skip the visual stream with a loud warning (streams.visual=skipped), or "
        "stop the run before any video is touched.",
    )
    builtin_taxonomy: bool = Field(
        True, description="Start from data/taxonomy/cultural_symbols.yaml; false uses only `taxonomy` files."
    )
    taxonomy: tuple[Path, ...] = Field(
        (),
        description="Taxonomy or overlay files (e.g. from `motiflens calibrate`), applied in order after the "
        "built-in one; later entries replace or patch symbols by id. Relative paths start at the working folder.",
    )
    threshold: float = Field(
        0.5, gt=0, lt=1, description="Presence score that starts an occurrence, for symbols without their own."
    )
    hysteresis: float = Field(
        0.1, ge=0, lt=1, description="An occurrence ends when the smoothed score drops below threshold minus this."
    )
    smoothing_seconds: float = Field(
        2.0, ge=0, le=60, description="Width of the centred moving average over frame scores; 0 disables it."
    )
    min_duration_seconds: float = Field(1.0, ge=0, le=600, description="Shorter occurrences are dropped.")
    batch_size: int = Field(32, ge=1, le=4096, description="Tiles encoded together.")
    autocast: Literal["float16", "bfloat16", "none"] = Field(
        "float16", description="Mixed precision on CUDA; CPU always computes in float32."
    )
    mask_subtitles: bool = Field(
        True, description="Paint the burned-in subtitle band a neutral grey before scoring (text is not content)."
    )
    dedup: bool = Field(True, description="Reuse the last encoding for near-identical frames (static shots).")
    dedup_threshold: float = Field(
        1.0,
        gt=0,
        le=64,
        description="Mean absolute grey-level difference of 16x16 thumbnails below which a frame is a duplicate "
        "of the last encoded one.",
    )
    embedding_cache: bool = Field(
        True, description="Keep prompt-ensemble text embeddings on disk, keyed by model, weights and prompts."
    )
    thumbnails: bool = Field(True, description="Write one JPEG per occurrence, at its peak, with the tile outlined.")
    thumbnail_max_side: int = Field(384, ge=64, le=4096, description="Long side of evidence thumbnails.")


class ShotsConfig(Section):
    enabled: bool = Field(True, description="Find shot boundaries (hard cuts) with PySceneDetect.")
    detector: Literal["adaptive", "content"] = Field(
        "adaptive",
        description="adaptive: a frame's change against its neighbours' (robust to camera motion); "
        "content: a fixed threshold on the change itself.",
    )
    adaptive_threshold: float = Field(
        3.0, gt=0, le=255, description="adaptive: how many times its neighbours' change a cut's change must be."
    )
    min_content_val: float = Field(
        15.0, ge=0, le=255, description="adaptive: the least change (HSV delta, 0-255) that can be a cut."
    )
    content_threshold: float = Field(
        27.0, gt=0, le=255, description="content: the change (HSV delta, 0-255) above which a frame is a cut."
    )
    window_width: int = Field(
        2, ge=1, le=30, description="adaptive: analysed frames on each side that a frame is compared with."
    )
    min_shot_seconds: float = Field(0.5, ge=0, le=60, description="No shot is shorter than this.")
    analysis_fps: float = Field(
        15.0, gt=0, le=120, description="Frames analysed per second (every frame of slower videos)."
    )
    max_side: int = Field(
        256, ge=32, le=4096, description="Analysed frames are downscaled so their long side is at most this."
    )


class MentionsConfig(Section):
    keywords: bool = Field(
        True, description="Match the taxonomy's dialogue_terms (en with inflections, zh as substrings)."
    )
    semantic: bool = Field(
        True, description="Also match a sentence to a symbol's description by sentence-embedding similarity."
    )
    semantic_threshold: float = Field(
        0.46,
        gt=0,
        lt=1,
        description="Cosine similarity between a sentence and a symbol's names and description at which a sentence "
        "that names no symbol counts as a semantic mention of its closest one; fitted for the default text model on "
        "data/eval/role_scenes.yaml by `motiflens fit-story` (refit it for another model).",
    )
    min_zh_term_chars: int = Field(
        2, ge=1, le=8, description="Shorter Chinese terms are ignored: one character occurs inside too many words."
    )


class EventsConfig(Section):
    definitions: Path | None = Field(None, description="An events YAML replacing data/events.yaml.")
    dev_set: Path | None = Field(
        None,
        description="Labelled dialogue lines (data/eval/event_lines.yaml format) that the event model and its "
        "threshold are fitted on at start-up; unset: the shipped dev set.",
    )
    min_confidence: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="A line becomes an event when its most likely type reaches this probability; unset: the "
        "threshold fitted on the dev set (maximum macro F1; `motiflens fit-story` reports it).",
    )
    reply_gap_seconds: float = Field(
        3.0,
        ge=0,
        le=60,
        description="The next line, if it starts within this pause, is the reply a line is judged with "
        "(a refused apology is no reconciliation).",
    )
    merge_gap_seconds: float = Field(
        2.0, ge=0, le=60, description="Same-type detections closer than this are one event."
    )
    cue_window_seconds: float = Field(
        1.5, ge=0, le=30, description="An audio peak or cut-rate spike this close to an event's span supports it."
    )
    audio: bool = Field(True, description="Use loudness peaks (stings, shouts, slaps) of the audio track as a cue.")
    audio_frame_seconds: float = Field(0.05, gt=0, le=1, description="RMS window of the loudness envelope.")
    audio_peak_z: float = Field(
        4.0, gt=0, le=50, description="A peak is this many robust deviations (MAD) above the episode's median loudness."
    )
    audio_boost: float = Field(0.15, ge=0, le=1, description="Most an audio peak adds to an event's confidence.")
    cut_rate: bool = Field(True, description="Use bursts of fast cutting as a cue.")
    cut_rate_window_seconds: float = Field(4.0, gt=0, le=120, description="Sliding window for the local cut rate.")
    cut_rate_factor: float = Field(
        2.0, gt=1, le=20, description="A burst: the local cut rate is this many times the episode's rate."
    )
    cut_rate_min_cuts: int = Field(3, ge=2, le=100, description="A burst has at least this many cuts in the window.")
    cut_rate_boost: float = Field(0.1, ge=0, le=1, description="Most a cut-rate burst adds to an event's confidence.")


class ThemesConfig(Section):
    definitions: Path | None = Field(None, description="A themes YAML replacing data/themes.yaml.")
    min_confidence: float = Field(0.5, gt=0, lt=1, description="A segment voices a theme at this confidence or above.")
    keyword_confidence: float = Field(
        0.7, ge=0, le=1, description="Confidence that one of a theme's cue phrases gives on its own."
    )


class ReadingConfig(Section):
    """One reading per line: a subtitle linked to speech is read instead of it; speech alone is doubted when
    the recogniser was unsure, and a doubted line raises no plot event on its own."""

    min_speech_confidence: float = Field(
        0.45,
        ge=0,
        le=1,
        description="Speech whose exp(mean token log-probability) is lower is doubted (Whisper's own "
        "log_prob_threshold of -1.0 is 0.37).",
    )
    max_no_speech_probability: float = Field(
        0.6, ge=0, le=1, description="Speech whose no-speech probability is higher is doubted."
    )


class LinksConfig(Section):
    """How a plot event's dialogue links it to a symbol (story/links.py)."""

    anaphora_lines: int = Field(
        2, ge=1, le=5, description="A pronoun (它/这个/it/that …) in an event line points back this many lines at most."
    )
    anaphora_max_gap_seconds: float = Field(
        6.0, ge=0, le=60, description="…across pauses no longer than this (a longer pause ends the exchange)."
    )
    scene_pause_seconds: float = Field(
        1.5,
        ge=0,
        le=60,
        description="A cut inside a dialogue pause at least this long is a scene break that anaphora does not "
        "cross (cuts between lines spoken without such a pause are shot/reverse-shot).",
    )


class StoryConfig(Section):
    enabled: bool = Field(True, description="Find symbol mentions, plot events and themes in the dialogue.")
    text_model: str = Field(
        "use-multilingual-v3",
        description="Sentence-embedding model card (models/*.yaml, `motiflens models list`): the default reads "
        "Chinese, English, Thai and 12 more languages offline; all-minilm-l6-v2 is English only.",
    )
    text_model_path: Path | None = Field(
        None,
        description="A local sentence-transformers folder, looked at first. When text_model names a "
        "sentence-transformers card (e.g. multilingual-e5-base) the folder is that model: the card's languages, "
        "prefix and sha256 apply; otherwise it is a model of its own with text_model_languages.",
    )
    text_model_languages: tuple[str, ...] = Field(
        ("en",),
        description="Languages the model at text_model_path understands when it stands alone (a card states its own).",
    )
    batch_size: int = Field(64, ge=1, le=4096, description="Sentences embedded together.")
    reading: ReadingConfig = ReadingConfig()
    mentions: MentionsConfig = MentionsConfig()
    events: EventsConfig = EventsConfig()
    links: LinksConfig = LinksConfig()
    themes: ThemesConfig = ThemesConfig()


class RoleWeights(Section):
    """narrative_weight = sum(weight x component) / sum(weights); each component is in [0, 1]."""

    prominence: float = Field(
        0.25, ge=0, le=10, description="Screen prominence: mean score x share of prominence_seconds."
    )
    reference: float = Field(
        0.25, ge=0, le=10, description="Named near the occurrence: 1; elsewhere in the episode: 0.5."
    )
    event_coupling: float = Field(0.35, ge=0, le=10, description="Confidence of the strongest linked plot event.")
    recurrence: float = Field(
        0.15, ge=0, le=10, description="Shots the symbol appears in, saturating at recurrence_shots."
    )

    @model_validator(mode="after")
    def _some_weight(self) -> RoleWeights:
        if self.prominence + self.reference + self.event_coupling + self.recurrence <= 0:
            raise ValueError("at least one weight must be positive")
        return self


class AlignConfig(Section):
    reference_window_seconds: float = Field(
        10.0, ge=0, le=600, description="A mention this close to an occurrence references it (else: episode-level)."
    )
    event_window_seconds: float = Field(
        8.0,
        ge=0,
        le=600,
        description="An event this close to an occurrence but not linked to its symbol is listed in its evidence "
        "as near, not linked (nearness in time never makes a catalyst).",
    )
    visual_focus_min_score: float = Field(
        0.6,
        gt=0,
        le=1,
        description="visual_focus link: during an event the symbol's mean presence score on screen reaches this "
        "(it dominates the frame), and the symbol is named in the episode.",
    )
    prominence_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Screen time at which the prominence component saturates; the visual stage's provisional "
        "narrative_weight (mean score x share of this, until roles are aligned) uses it too.",
    )
    recurrence_shots: int = Field(3, ge=2, le=100, description="Shots at which the recurrence component saturates.")
    mention_merge_gap_seconds: float = Field(
        1.0, ge=0, le=60, description="Mentions of a never-seen symbol closer than this form one dialogue occurrence."
    )
    weights: RoleWeights = RoleWeights()


class ActorPoolConfig(Section):
    """Ray actors of one kind of stage: how many, and what each reserves (the scheduler packs actors by it)."""

    min_actors: int = Field(1, ge=1, le=10_000, description="Actors kept alive per stage, each with its model loaded.")
    max_actors: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="The pool grows up to this many actors while videos wait; unset: as many as free resources allow.",
    )
    num_cpus: float | None = Field(
        None,
        gt=0,
        le=1024,
        description="CPUs reserved per actor, and its thread count (rounded, at least 1); unset: the cluster's CPUs "
        "shared by every stage's minimum pool, at most 1.",
    )
    num_gpus: float | None = Field(
        None,
        ge=0,
        le=64,
        description="GPUs reserved per actor; unset: 0.25 for stages that run on the run's device when it is CUDA "
        "(asr, visual, story), else 0.",
    )
    memory_gb: float = Field(0.5, gt=0, le=4096, description="Memory reserved per actor (GiB).")

    @model_validator(mode="after")
    def _ordered(self) -> ActorPoolConfig:
        if self.max_actors is not None and self.max_actors < self.min_actors:
            raise ValueError(f"max_actors ({self.max_actors}) is below min_actors ({self.min_actors})")
        return self


class DevicePoolConfig(ActorPoolConfig):
    memory_gb: float = Field(1.5, gt=0, le=4096, description="Memory reserved per actor (GiB): a model is loaded.")


class StagePoolConfig(Section):
    """One stage's pool; every key left unset comes from its kind's pool (engine.ray.cpu or engine.ray.device)."""

    min_actors: int | None = Field(None, ge=1, le=10_000, description="See engine.ray.cpu.min_actors.")
    max_actors: int | None = Field(None, ge=1, le=10_000, description="See engine.ray.cpu.max_actors.")
    num_cpus: float | None = Field(None, gt=0, le=1024, description="See engine.ray.cpu.num_cpus.")
    num_gpus: float | None = Field(None, ge=0, le=64, description="See engine.ray.cpu.num_gpus.")
    memory_gb: float | None = Field(None, gt=0, le=4096, description="See engine.ray.cpu.memory_gb.")


class RayConfig(Section):
    address: str | None = Field(
        None,
        min_length=1,
        description="An existing cluster to join: 'auto' (the one started on this node with `ray start`) or "
        "host:port; unset starts a local instance with this machine's cores.",
    )
    cpu: ActorPoolConfig = Field(
        ActorPoolConfig(), description="Pools of the stages that always run on CPU (decoding, OCR, linking, alignment)."
    )
    device: DevicePoolConfig = Field(
        DevicePoolConfig(),
        description="Pools of the stages that run on the run's device (asr, visual, story: models whose results "
        "may differ between CPU and GPU).",
    )
    stages: dict[str, StagePoolConfig] = Field(
        {}, description="Per-stage overrides by stage name, e.g. {asr: {max_actors: 4, num_gpus: 0.5}}."
    )
    env_prefixes: tuple[str, ...] = Field(
        ("MOTIFLENS_", "HF_", "HUGGINGFACE_", "TRANSFORMERS_", "TORCH_", "OMP_", "MKL_", "OPENBLAS_", "CT2_"),
        description="Driver environment variables starting with one of these are set in every actor "
        "(model cache, hub settings, thread libraries).",
    )


class EngineConfig(Section):
    """Where the stages run; never what they produce (left out of the config hash)."""

    name: Literal["local", "ray"] = Field(
        "local", description="local: this process, a chunk at a time; ray: Ray Data actor pools, videos streaming."
    )
    ray: RayConfig = RayConfig()


class Config(Section):
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed for every random choice.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto picks CUDA when present.")
    input: InputConfig = InputConfig()
    frames: FramesConfig = FramesConfig()
    tiles: TilesConfig = TilesConfig()
    shots: ShotsConfig = ShotsConfig()
    visual: VisualConfig = VisualConfig()
    bands: BandsConfig = BandsConfig()
    audio: AudioConfig = AudioConfig()
    asr: AsrConfig = AsrConfig()
    ocr: OcrConfig = OcrConfig()
    story: StoryConfig = StoryConfig()
    align: AlignConfig = AlignConfig()
    run: RunConfig = RunConfig()
    engine: EngineConfig = EngineConfig()

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def hash(self) -> str:
        """Stable across runs, machines and engines: canonical JSON of the resolved config but `engine`, which
        decides where stages run, not what they produce (a Ray run's timelines equal a local run's)."""
        results = {key: value for key, value in self.to_dict().items() if key != "engine"}
        canonical = json.dumps(results, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _field_limits(path: tuple[str | int, ...]) -> str | None:
    """The allowed range or choices of the field at `path`, read from the schema itself."""
    model: type[BaseModel] = Config
    info = None
    for part in path:
        if not isinstance(part, str) or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    if info is None:
        return None
    bounds = []
    for constraint in info.metadata:
        for name, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            value = getattr(constraint, name, None)
            if value is not None:
                bounds.append(f"{symbol} {value}")
    return f"allowed: {' and '.join(bounds)}" if bounds else None


def _allowed_keys(path: tuple[str | int, ...]) -> list[str]:
    model: type[BaseModel] = Config
    parts = list(path)
    while parts:
        part = str(parts.pop(0))
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        if get_origin(annotation) is dict and parts:  # a mapping of sections (engine.ray.stages.<stage>)
            annotation = get_args(annotation)[1]
            parts.pop(0)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


def format_validation_error(error: ValidationError, origin: str) -> str:
    lines = [f"invalid config ({origin}):"]
    for item in error.errors():
        loc = tuple(item["loc"])
        dotted = ".".join(str(part) for part in loc)
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(loc[:-1]))
            lines.append(f"  {dotted}: unknown key (known keys here: {allowed})")
            continue
        detail = f"  {dotted}: {item['msg']} (got {item['input']!r})"
        limits = _field_limits(loc)
        lines.append(f"{detail}; {limits}" if limits else detail)
    return "\n".join(lines)


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """`frames.sample_fps=2` → (["frames", "sample_fps"], 2.0); the value is read as a YAML scalar."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    parts = [part for part in key.strip().split(".") if part]
    value = parse_yaml(raw, f"--set {key}: value {raw!r}") if raw.strip() else ""
    return parts, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for assignment in overrides:
        parts, value = parse_override(assignment)
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                dotted = ".".join(parts[: depth + 1])
                raise ConfigError(f"--set {assignment}: {dotted} is a value, not a section")
            node = child
        node[parts[-1]] = value
    return data


def load_config(path: Path | None = None, overrides: list[str] | None = None) -> Config:
    data: dict[str, Any] = {}
    if path is not None:
        data = read_yaml_mapping(path, f"config {path}", shape="a mapping of sections", empty_ok=True)
    data = apply_overrides(data, list(overrides or []))
    origin = str(path) if path is not None else "defaults"
    if overrides:
        origin += " with --set " + ", ".join(overrides)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, origin)) from exc


def dump_yaml(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
