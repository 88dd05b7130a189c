"""Align: every symbol occurrence (seen, or only named) gets its narrative role, weight and evidence."""

from __future__ import annotations

from typing import Any

from motiflens.core.config import Config
from motiflens.core.taxonomy import Taxonomy, load_taxonomy, taxonomy_paths
from motiflens.stages.base import Stage, VideoWork


class AlignStage(Stage):
    name = "align"
    config_sections = ("align", "visual.builtin_taxonomy", "visual.taxonomy")
    depends_on = ("shots", "visual", "story")

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.taxonomy: Taxonomy | None = None

    def prepare(self) -> None:
        self.taxonomy = load_taxonomy(taxonomy_paths(self.config.visual.builtin_taxonomy, self.config.visual.taxonomy))

    def fingerprint(self) -> dict[str, Any]:
        return {"taxonomy": self.taxonomy.hash if self.taxonomy is not None else None}

    def process(self, work: VideoWork) -> None:
        from motiflens.story.align import RoleAssigner

        if self.taxonomy is None:
            self.prepare()
        assert self.taxonomy is not None  # prepare() loaded it
        labels = {symbol.id: symbol.label for symbol in self.taxonomy.symbols}
        work.symbols = RoleAssigner(self.config.align).assign(
            work.symbols, work.mentions, work.events, work.shots, labels
        )
        roles = [occurrence.role for occurrence in work.symbols]
        work.stats["align"] = {role: roles.count(role) for role in ("decorative", "referenced", "catalyst")}
