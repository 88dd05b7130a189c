"""Links between plot events and symbols, read from what the dialogue says (not from the clock).

- same_line: the event's own line names the symbol (a keyword mention in that line);
- anaphora: the event's line refers back (它/这个/那盏/此/it/this/that/them …) to a symbol named in one of
  the `anaphora_lines` lines before it, in the same exchange: no scene break in between and no pause longer
  than `anaphora_max_gap_seconds`;
- semantic: the event's line is about the symbol without naming it (a semantic mention in that line: its
  similarity to the symbol's names and description reaches `story.mentions.semantic_threshold`).
The align stage adds `visual_focus` (the symbol fills the frame during the event) and turns links into roles.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

from motiflens.core.config import LinksConfig
from motiflens.core.records import EventLink, LinkKind, Mention, PlotEvent, Shot
from motiflens.story.units import DialogueUnit

#: Pronouns that point back at a thing. A demonstrative with a measure word (这盏, 那把) counts only where it
#: stands alone ("那把是证据", "这盏给你"); followed by a noun ("这个家", "那张照片") it points at that noun.
ANAPHORA_ZH = re.compile(
    r"它们?|[这那](?:样)?(?:东西|玩意儿?)|此物"
    r"|[这那](?:个|件|把|盏|张|幅|块|只|本|面|双|套|座|尊|枚|串|条|盒|碗|份|副|杯|台|门)"
    r"(?=$|[，,。.！!？?；;…、]|[是就可也都还才不没给被让我你他她呢吧啊呀])"
)
ANAPHORA_EN = re.compile(r"(?<![\w'])(?:it|its|this|that|them|these|those)(?:'s)?(?![\w'])", re.IGNORECASE)


def has_anaphor(text: str) -> bool:
    return bool(ANAPHORA_ZH.search(text) or ANAPHORA_EN.search(text))


def scene_breaks(units: Sequence[DialogueUnit], shots: Sequence[Shot], min_pause_seconds: float) -> list[float]:
    """Cuts that fall in a pause of the dialogue at least `min_pause_seconds` long: a cut between two lines
    spoken without such a pause is shot/reverse-shot inside one exchange, not a new scene."""
    spoken = sorted((unit.start_seconds, unit.end_seconds) for unit in units)
    pauses = [
        (a_end, b_start)
        for (_, a_end), (b_start, _) in itertools.pairwise(spoken)
        if b_start - a_end >= min_pause_seconds
    ]
    return [shot.start_seconds for shot in shots if any(start <= shot.start_seconds <= end for start, end in pauses)]


def _in_unit(mention: Mention, unit: DialogueUnit) -> bool:
    return (
        mention.segment_id == unit.segment_id
        and unit.start_seconds - 1e-6 <= mention.start_seconds <= unit.end_seconds + 1e-6
        and mention.text == unit.text
    )


def _event_units(event: PlotEvent, units: Sequence[DialogueUnit]) -> list[int]:
    return [
        index
        for index, unit in enumerate(units)
        if unit.segment_id in event.segment_ids
        and unit.start_seconds < event.end_seconds + 1e-6
        and unit.end_seconds > event.start_seconds - 1e-6
        and unit.text in event.text.split(" / ")
    ]


def link_events(
    events: Sequence[PlotEvent],
    units: Sequence[DialogueUnit],
    mentions: Sequence[Mention],
    breaks: Sequence[float],
    settings: LinksConfig,
) -> list[PlotEvent]:
    """Each event with the symbols its dialogue links it to (`PlotEvent.links`)."""
    named = [[m for m in mentions if _in_unit(m, unit)] for unit in units]
    linked = []
    for event in events:
        found: dict[tuple[str, str], EventLink] = {}
        for index in _event_units(event, units):
            unit = units[index]
            for mention in named[index]:
                kind: LinkKind = "same_line" if mention.match == "keyword" else "semantic"
                found.setdefault(
                    (mention.symbol_id, kind), EventLink(mention.symbol_id, kind, unit.segment_id, unit.text)
                )
            if not has_anaphor(unit.text) or any(m.match == "keyword" for m in named[index]):
                continue
            for back in range(index - 1, max(-1, index - 1 - settings.anaphora_lines), -1):
                previous = units[back]
                gap = unit.start_seconds - previous.end_seconds
                if gap > settings.anaphora_max_gap_seconds or any(
                    previous.end_seconds <= cut <= unit.start_seconds for cut in breaks
                ):
                    break
                referents = {m.symbol_id for m in named[back] if m.match == "keyword"}
                for symbol_id in sorted(referents):
                    found.setdefault(
                        (symbol_id, "anaphora"), EventLink(symbol_id, "anaphora", previous.segment_id, previous.text)
                    )
                if referents:
                    break  # the nearest line that names something is what the pronoun points at
        order = {"same_line": 0, "anaphora": 1, "semantic": 2}
        links = tuple(sorted(found.values(), key=lambda link: (link.symbol_id, order[link.kind])))
        linked.append(replace(event, links=links))
    return linked
