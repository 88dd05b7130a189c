"""Symbol mentions: sentences that name a symbol by one of its dialogue terms, or talk about it in other
words (sentence-embedding similarity to the symbol's label and description)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from motiflens.core.config import MentionsConfig
from motiflens.core.records import Mention
from motiflens.core.taxonomy import Taxonomy
from motiflens.dialogue.text import has_cjk
from motiflens.story.lexicon import TermHit, TermMatcher
from motiflens.story.text_model import TextEncoder
from motiflens.story.units import DialogueUnit


def symbol_texts(taxonomy: Taxonomy) -> list[list[str]]:
    """What a sentence is compared with, per symbol: its English label and description, and its Chinese name
    with its Chinese dialogue terms (a multilingual encoder compares a Chinese line with both)."""
    return [
        [f"{symbol.label}. {symbol.description}", "、".join(dict.fromkeys((symbol.zh, *symbol.dialogue_terms.zh)))]
        for symbol in taxonomy.symbols
    ]


class MentionFinder:
    def __init__(self, taxonomy: Taxonomy, settings: MentionsConfig, encoder: TextEncoder | None) -> None:
        self.taxonomy = taxonomy
        self.settings = settings
        self.encoder = encoder if settings.semantic and encoder is not None else None
        self.matchers = {
            symbol.id: TermMatcher(
                symbol.dialogue_terms.en,
                (*symbol.dialogue_terms.zh, *symbol.dialogue_terms.th),
                settings.min_zh_term_chars,
            )
            for symbol in taxonomy.symbols
        }
        self.descriptions: list[np.ndarray] = []
        if self.encoder is not None:
            understood = [
                [text for text in texts if self.encoder.understands("zh" if has_cjk(text) else "en")]
                for texts in symbol_texts(taxonomy)
            ]
            self.descriptions = [self.encoder.encode(texts) for texts in understood]

    def _hits(self, text: str) -> dict[str, list[TermHit]]:
        """Each symbol's hits in one text, without hits inside a longer hit of another symbol
        ("jade" in "jade teapot" names the teapot, not jade jewellery)."""
        found = {symbol_id: matcher.find(text) for symbol_id, matcher in self.matchers.items()}
        spans = [(hit.begin, hit.end, symbol_id) for symbol_id, hits in found.items() for hit in hits]
        kept = {}
        for symbol_id, hits in found.items():
            hits = [
                hit
                for hit in hits
                if not any(
                    other != symbol_id and begin <= hit.begin and hit.end <= end and end - begin > hit.end - hit.begin
                    for begin, end, other in spans
                )
            ]
            if hits:
                kept[symbol_id] = hits
        return kept

    def _keyword(self, unit: DialogueUnit) -> list[Mention]:
        found = []
        in_text = self._hits(unit.text)
        in_english = self._hits(unit.text_en) if unit.text_en and unit.text_en != unit.text else {}
        for symbol_id in self.matchers:
            if symbol_id in in_text:
                hits = in_text[symbol_id]
                start, _ = unit.times_of(hits[0].begin, hits[0].end)
                _, end = unit.times_of(hits[-1].begin, hits[-1].end)
            elif symbol_id in in_english:
                hits = in_english[symbol_id]
                start, end = unit.start_seconds, unit.end_seconds
            else:
                continue
            found.append(self._mention(unit, symbol_id, start, end, "keyword", 1.0, hits[0].term))
        return found

    def _mention(
        self, unit: DialogueUnit, symbol_id: str, start: float, end: float, match: str, score: float, term: str | None
    ) -> Mention:
        return Mention(
            symbol_id=symbol_id,
            segment_id=unit.segment_id,
            source=unit.source,  # type: ignore[arg-type]
            start_seconds=start,
            end_seconds=max(start, end),
            text=unit.text,
            match=match,  # type: ignore[arg-type]
            score=score,
            term=term,
            language=unit.language,
        )

    def _reading(self, unit: DialogueUnit) -> str | None:
        """The line as the encoder can read it: in its own language, else its English row."""
        if self.encoder is None:
            return None
        if self.encoder.understands(unit.language):
            return unit.text
        return unit.english if self.encoder.understands("en") else None

    def find(self, units: Sequence[DialogueUnit]) -> list[Mention]:
        mentions: list[Mention] = []
        keyword = [self._keyword(unit) if self.settings.keywords else [] for unit in units]
        for found in keyword:
            mentions.extend(found)
        if self.encoder is not None and self.descriptions:
            readings = [self._reading(unit) for unit in units]
            texts = [text for text in readings if text]
            vectors = dict(zip(texts, self.encoder.encode(texts), strict=True)) if texts else {}
            for unit, text, named in zip(units, readings, keyword, strict=True):
                # A sentence that names a symbol outright is not also matched by meaning; otherwise only
                # its closest symbol can be meant (descriptions of related symbols overlap).
                if not text or named:
                    continue
                similarities = np.array(
                    [float((rows @ vectors[text]).max()) if len(rows) else -1.0 for rows in self.descriptions]
                )
                best = int(np.argmax(similarities))
                if similarities[best] >= self.settings.semantic_threshold:
                    symbol_id = self.taxonomy.symbols[best].id
                    score = float(similarities[best])
                    mentions.append(
                        self._mention(unit, symbol_id, unit.start_seconds, unit.end_seconds, "semantic", score, None)
                    )
        mentions.sort(key=lambda m: (m.start_seconds, m.symbol_id, m.segment_id, m.match))
        return mentions
