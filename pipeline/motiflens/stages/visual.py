"""Visual stream: when each taxonomy symbol is on screen, from CLIP zero-shot scores on square tiles.

prepare() validates the taxonomy and finds the weights before any video work; without weights the stream
is skipped for the whole run (one loud warning) or the run stops, as `visual.on_missing_weights` says.
torch and open_clip are imported only when open() loads a model.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np

from motiflens.core.config import Config
from motiflens.core.environment import resolve_device
from motiflens.core.log import get_logger
from motiflens.core.records import Evidence, SampledFrame, StreamStatus, SymbolOccurrence, VideoInfo
from motiflens.core.taxonomy import Symbol, Taxonomy, load_taxonomy, taxonomy_paths
from motiflens.media.decode import FrameSink
from motiflens.media.frames import FrameReader, sample_times
from motiflens.media.prefetch import prefetch
from motiflens.media.products import FrameProduct, ProductSink, discard
from motiflens.stages.base import Stage, VideoWork
from motiflens.stages.shots import ShotSink
from motiflens.visual.backend import create_backend
from motiflens.visual.engine import FrameScorer, ScoringStats
from motiflens.visual.occurrences import Detection, detect, prominence_weight, thresholds
from motiflens.visual.prompts import build_prompt_bank
from motiflens.visual.thumbnails import ThumbnailRecorder
from motiflens.visual.tiles import TileCropper
from motiflens.visual.weights import MissingWeights, VisualWeights, WeightsResolver

log = get_logger("visual")

THUMBNAIL_FOLDER = "thumbnails"


class VisualStage(Stage):
    name = "visual"
    stream = "visual"
    loaded = ("scorer",)
    config_sections = ("visual", "frames", "tiles", "seed", "align.prominence_seconds")
    depends_on = ("ingest", "shots")
    uses_device = True

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.settings = config.visual
        self.taxonomy: Taxonomy | None = None
        self.weights: VisualWeights | None = None
        self.skip_reason: str | None = None
        self.scorer: FrameScorer | None = None

    def prepare(self) -> None:
        if not self.settings.enabled:
            self.skip_reason = "visual.enabled is false"
            return
        self.taxonomy = load_taxonomy(taxonomy_paths(self.settings.builtin_taxonomy, self.settings.taxonomy))
        resolver = WeightsResolver(self.settings.weights, self.settings.allow_download, self.config.seed)
        try:
            self.weights = resolver.resolve(self.settings.model)
        except MissingWeights as exc:
            if self.settings.on_missing_weights == "error":
                raise
            # The timeline gets a reason that is the same on every machine; the log has the paths.
            self.skip_reason = (
                f"no weights for visual model {self.settings.model!r} (visual.on_missing_weights=skip); "
                f"fix: visual.weights=FILE, or `motiflens models import FILE --name {self.settings.model}`, "
                "or visual.allow_download=true"
            )
            log.warning(
                "VISUAL STREAM SKIPPED FOR THIS RUN (visual.on_missing_weights=skip): no symbol will be "
                "detected on screen. %s",
                exc,
            )

    def open(self) -> None:
        if self.weights is None or self.taxonomy is None:
            return
        backend = create_backend(self.weights, resolve_device(self.config.device), self.settings.autocast)
        backend.load()
        bank = build_prompt_bank(
            backend,
            self.taxonomy,
            self.weights.card.id,
            self.weights.key,
            backend.logit_scale,
            self.settings.embedding_cache,
        )
        dedup = self.settings.dedup_threshold if self.settings.dedup else None
        self.scorer = FrameScorer(backend, bank, self.settings.batch_size, dedup)

    def frame_sink(self, work: VideoWork, info: VideoInfo, sinks: dict[str, FrameSink]) -> FrameSink | None:
        if self.skip_reason is not None or self.weights is None:
            return None
        grid = sample_times(info.duration_seconds, self.config.frames.sample_fps)
        sink = ProductSink(self.name, grid, self.config.frames.max_side, info, work.workdir)
        shots = sinks.get("shots")
        if isinstance(shots, ShotSink) and self.config.frames.shot_first_frames:
            shots.listeners.append(partial(_sample_shot_start, sink, info.duration_seconds))
        return sink

    def _frames(self, work: VideoWork, info: VideoInfo) -> Iterator[SampledFrame]:
        """Frames at work.frame_times: the shared decode pass's product, else this stage's own pass."""
        product = FrameProduct.load(work.workdir, self.name)
        if product is not None:
            yield from product.frames()
        else:
            yield from FrameReader(self.config.frames).read(work.source.path, info, work.frame_times)

    def cache_valid(self, work: VideoWork) -> bool:
        thumbnails = [item.ref for o in work.symbols for item in o.evidence if item.kind == "visual" and item.ref]
        return all((work.workdir / ref).is_file() for ref in thumbnails)

    def models(self) -> dict[str, dict[str, str]]:
        if self.weights is None or self.taxonomy is None:
            return {}
        entry = self.weights.to_json()
        entry.update(taxonomy_version=self.taxonomy.version, taxonomy_hash=self.taxonomy.hash)
        return {"visual": entry}

    def process(self, work: VideoWork) -> None:
        try:
            self._score(work)
        finally:
            discard(work.workdir, self.name)

    def _score(self, work: VideoWork) -> None:
        if self.skip_reason is not None:
            work.streams["visual"] = StreamStatus("skipped", self.skip_reason)
            return
        if self.scorer is None or self.taxonomy is None or work.info is None or work.layout is None:
            raise RuntimeError("visual stage used without prepare()/open() or before ingest")
        cropper = TileCropper(work.layout, self.settings.mask_subtitles)
        frames = prefetch(self._frames(work, work.info), self.config.run.prefetch_frames)
        recorder = ThumbnailRecorder(self.settings.thumbnail_max_side) if self.settings.thumbnails else None
        if recorder is not None:
            frames = recorder.tap(frames)

        self.scorer.stats = ScoringStats()
        indices, times, scores, winners = [], [], [], []
        for scored in self.scorer.score(frames, cropper):
            indices.append(scored.index)
            times.append(scored.time_seconds)
            scores.append(scored.pooled.scores)
            winners.append(scored.pooled.tiles)

        detections = detect(
            np.array(times),
            np.array(scores),
            np.array(winners),
            thresholds(self.taxonomy, self.settings.threshold),
            work.info.duration_seconds,
            self.settings,
        )
        work.symbols = []
        for stale in (work.workdir / THUMBNAIL_FOLDER).glob("*.jpg"):  # from an earlier run into this folder
            stale.unlink()
        for detection in detections:
            symbol = self.taxonomy.symbols[detection.symbol_index]
            thumbnail = None
            if recorder is not None:
                thumbnail = f"{THUMBNAIL_FOLDER}/{symbol.id}-{round(detection.peak_seconds * 1000):08d}ms.jpg"
                box = cropper.region(detection.peak_tile).box
                recorder.write(indices[detection.peak_frame], box, work.workdir / thumbnail)
            work.symbols.append(self._occurrence(symbol, detection, cropper, thumbnail))
        work.stats["visual"] = {
            **self.scorer.stats.to_json(),
            "tiles_per_frame": len(work.layout.tiles),
            "occurrences": len(work.symbols),
        }
        work.streams["visual"] = StreamStatus("ok")

    def _occurrence(
        self, symbol: Symbol, detection: Detection, cropper: TileCropper, thumbnail: str | None
    ) -> SymbolOccurrence:
        """A provisional record: role `decorative` and a prominence-only weight until alignment assigns roles."""
        return SymbolOccurrence(
            symbol_id=symbol.id,
            label=symbol.label,
            start_seconds=detection.start_seconds,
            end_seconds=detection.end_seconds,
            peak_seconds=detection.peak_seconds,
            peak_score=detection.peak_score,
            mean_score=detection.mean_score,
            screen_region=cropper.region(detection.peak_tile),
            narrative_weight=prominence_weight(detection, self.config.align.prominence_seconds),
            evidence=(Evidence("visual", detection.start_seconds, detection.end_seconds, ref=thumbnail),),
        )


def _sample_shot_start(sink: ProductSink, duration_seconds: float, time_seconds: float, source: Any) -> None:
    """A shot's first frame joins the visual samples (frames.shot_first_frames), as the shots stage will plan."""
    if not 0 < time_seconds < duration_seconds:  # shots_from_starts keeps starts inside the video only
        return
    if source is None:  # fell out of the shots window: the product is incomplete, the stage decodes on its own
        sink.complete = False
        return
    sink.add(time_seconds, source)
