"""A synthetic timeline.json in the shape of schema version 1 after issue 5, for the report and export tests.

The times follow data/samples/lantern_vow.mp4 (9.28 s, shots cut at 2.6, 4.32 and 7.68 s) so a browser test can
play the real sample against it. `payload` is appended to every text that could come from a video.
"""

from __future__ import annotations

import copy
from collections import Counter
from html.parser import HTMLParser
from typing import Any

XSS_PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(2)</script>",
)
ALL_PAYLOADS = " ".join(XSS_PAYLOADS) + " \u2028 & <!-- -->"


class PageElements(HTMLParser):
    """A page as the browser's parser sees it: each start tag with its attributes, the text a reader sees,
    and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)

    @property
    def tag_counts(self) -> Counter[str]:
        return Counter(tag for tag, _ in self.tags)

    @property
    def attribute_names(self) -> list[str]:
        return [name for _, attrs in self.tags for name in attrs]


def parse_page(page: str) -> PageElements:
    elements = PageElements()
    elements.feed(page)
    elements.close()
    return elements


def make_timeline(payload: str = "", video_path: str = "lantern_vow.mp4") -> dict[str, Any]:
    """A filled timeline: 4 shots, ASR and OCR lines, mentions, events, themes and three symbol occurrences."""
    text = f" {payload}" if payload else ""
    document: dict[str, Any] = {
        "schema_version": "1",
        "video": {
            "id": "lantern-vow-test",
            "path": video_path,
            "sha256": "0" * 64,
            "duration_seconds": 9.28,
            "width": 540,
            "height": 960,
            "rotation": 0,
            "fps": 25.0,
            "orientation": "vertical",
            "has_audio": True,
        },
        "run": {"config_hash": "cbab9b5f34998632", "package_version": "0.1.0", "models": {}},
        "streams": {
            "asr": {"status": "ok"},
            "ocr": {"status": "ok"},
            "shots": {"status": "ok"},
            "story": {"status": "ok"},
            "visual": {"status": "skipped", "reason": f"no weights for visual model 'clip-vit-b-32'{text}"},
        },
        "shots": [
            {"index": 0, "start_seconds": 0.0, "end_seconds": 2.6},
            {"index": 1, "start_seconds": 2.6, "end_seconds": 4.32},
            {"index": 2, "start_seconds": 4.32, "end_seconds": 7.68},
            {"index": 3, "start_seconds": 7.68, "end_seconds": 9.28},
        ],
        "transcript": {
            "language": "en",
            "segments": [
                {"id": "asr-0001", "source": "asr", "start_seconds": 0.344, "end_seconds": 2.944,
                 "text": f"This red lantern belonged to my grandmother.{text}", "language": "en"},
                {"id": "asr-0002", "source": "asr", "start_seconds": 3.724, "end_seconds": 7.25,
                 "text": f"I swear I will bring it home before the Spring Festival.{text}", "language": "en"},
                {"id": "asr-0003", "source": "asr", "start_seconds": 7.7, "end_seconds": 9.1,
                 "text": "Home.", "language": "en"},
                {"id": "ocr-0001", "source": "ocr", "start_seconds": 0.75, "end_seconds": 3.5,
                 "text": f"这盏红灯笼是我奶奶留下的。{text}", "language": "zh",
                 "text_en": "This red lantern belonged to my grandmother."},
                {"id": "ocr-0002", "source": "ocr", "start_seconds": 3.75, "end_seconds": 7.25,
                 "text": "我发誓春节前一定把它带回家，", "language": "zh"},
            ],
        },
        "mentions": [
            {"symbol_id": "red_lantern", "segment_id": "asr-0001", "start_seconds": 0.344, "end_seconds": 2.944,
             "text": f"This red lantern belonged to my grandmother.{text}", "match": "keyword", "score": 1.0,
             "term": "red lantern", "source": "asr", "language": "en"},
            {"symbol_id": "spring_couplets", "segment_id": "asr-0002", "start_seconds": 3.724, "end_seconds": 7.25,
             "text": "I swear I will bring it home before the Spring Festival.", "match": "semantic",
             "score": 0.61, "term": None, "source": "asr", "language": "en"},
        ],
        "events": [
            {"id": "event-0001", "type": "vow", "start_seconds": 3.724, "end_seconds": 7.25, "confidence": 0.91,
             "cues": ["dialogue", "audio"], "segment_ids": ["asr-0002", "ocr-0002"],
             "text": f"I swear I will bring it home before the Spring Festival.{text}",
             "cue_scores": {"dialogue": 0.88, "audio": 0.4, "cut_rate": 0.0}, "matched_terms": ["swear"]},
            {"id": "event-0002", "type": "reconciliation", "start_seconds": 7.7, "end_seconds": 9.1,
             "confidence": 0.55, "cues": ["dialogue"], "segment_ids": ["asr-0003"], "text": "Home.",
             "cue_scores": {"dialogue": 0.55}, "matched_terms": []},
        ],
        "themes": [
            {"theme": "home_belonging", "segment_id": "asr-0002", "score": 0.73, "start_seconds": 3.724,
             "end_seconds": 7.25},
            {"theme": "tradition_modernity", "segment_id": "asr-0001", "score": 0.52, "start_seconds": 0.344,
             "end_seconds": 2.944},
        ],
        "symbols": [
            {"symbol_id": "red_lantern", "label": f"Red lantern{text}", "start_seconds": 0.0, "end_seconds": 4.32,
             "peak_seconds": 1.0, "peak_score": 0.8, "mean_score": 0.7,
             "screen_region": {"tile": 1, "box": [0.0, 0.2, 1.0, 0.76]}, "origin": "visual",
             "role": "catalyst", "narrative_weight": 0.72,
             "weight_components": {"prominence": 0.5, "reference": 1.0, "event_coupling": 0.9, "recurrence": 0.0},
             "thumbnail": "thumbnails/red_lantern-0001.jpg",
             "evidence": [
                 {"kind": "visual", "start_seconds": 0.0, "end_seconds": 4.32,
                  "ref": "thumbnails/red_lantern-0001.jpg", "text": "peak 0.80 at 1.0 s"},
                 {"kind": "mention", "start_seconds": 0.344, "end_seconds": 2.944, "ref": "asr-0001",
                  "text": f"This red lantern belonged to my grandmother.{text}"},
                 {"kind": "event", "start_seconds": 3.724, "end_seconds": 7.25, "ref": "event-0001",
                  "text": f"vow: I swear I will bring it home before the Spring Festival.{text}"},
             ]},
            {"symbol_id": "dumplings", "label": "Dumplings", "start_seconds": 2.6, "end_seconds": 5.0,
             "peak_seconds": 3.0, "peak_score": 0.6, "mean_score": 0.55, "origin": "visual",
             "role": "decorative", "narrative_weight": 0.1,
             "weight_components": {"prominence": 0.2, "reference": 0.0, "event_coupling": 0.0, "recurrence": 0.0},
             "evidence": [{"kind": "visual", "start_seconds": 2.6, "end_seconds": 5.0, "text": "peak 0.60 at 3.0 s"}]},
            {"symbol_id": "spring_couplets", "label": "Spring couplets", "start_seconds": 4.32, "end_seconds": 7.25,
             "peak_seconds": 4.32, "peak_score": 0.61, "mean_score": 0.61, "origin": "dialogue",
             "role": "referenced", "narrative_weight": 0.4,
             "weight_components": {"prominence": 0.0, "reference": 0.6, "event_coupling": 0.0, "recurrence": 0.0},
             "evidence": [{"kind": "mention", "start_seconds": 3.724, "end_seconds": 7.25, "ref": "asr-0002",
                           "text": "I swear I will bring it home before the Spring Festival."}]},
        ],
        "summary": {
            "symbol_screen_seconds": {"dumplings": 2.4, "red_lantern": 4.32},
            "symbol_seconds": {"dumplings": 2.4, "red_lantern": 4.32, "spring_couplets": 2.93},
            "role_seconds": {"decorative": 2.4, "referenced": 2.93, "catalyst": 4.32},
            "internalization_index": 0.449,
            "event_counts": {"reconciliation": 1, "vow": 1},
            "theme_counts": {"home_belonging": 1, "tradition_modernity": 1},
        },
    }
    return copy.deepcopy(document)


def many_items_timeline(episode_seconds: float = 900.0, items_per_lane: int = 200) -> dict[str, Any]:
    """A 15-minute episode with about a thousand lane items, for the size and speed checks."""
    document = make_timeline()
    document["video"]["duration_seconds"] = episode_seconds
    step = episode_seconds / items_per_lane
    document["shots"] = [
        {"index": i, "start_seconds": round(i * step, 3), "end_seconds": round((i + 1) * step, 3)}
        for i in range(items_per_lane)
    ]
    document["transcript"]["segments"] = [
        {"id": f"asr-{i:04d}", "source": "asr", "start_seconds": round(i * step, 3),
         "end_seconds": round(i * step + step * 0.8, 3), "text": f"line {i}"}
        for i in range(items_per_lane)
    ] + [
        {"id": f"ocr-{i:04d}", "source": "ocr", "start_seconds": round(i * step + 0.2, 3),
         "end_seconds": round(i * step + step * 0.9, 3), "text": f"字幕 {i}"}
        for i in range(items_per_lane)
    ]
    base = document["symbols"][0]
    document["symbols"] = [
        {**base, "symbol_id": f"symbol_{i % 7}", "label": f"Symbol {i % 7}", "start_seconds": round(i * step, 3),
         "end_seconds": round(i * step + step * 2.5, 3), "role": ("decorative", "referenced", "catalyst")[i % 3]}
        for i in range(items_per_lane)
    ]
    document["events"] = [
        {**document["events"][0], "id": f"event-{i:04d}", "start_seconds": round(i * step, 3),
         "end_seconds": round(i * step + step, 3)}
        for i in range(items_per_lane // 2)
    ]
    document["themes"] = [
        {"theme": "home_belonging", "segment_id": f"asr-{i:04d}", "score": 0.6, "start_seconds": round(i * step, 3),
         "end_seconds": round(i * step + step * 0.8, 3)}
        for i in range(items_per_lane // 2)
    ]
    return document
