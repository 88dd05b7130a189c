"""The ELAN export: EAF 3.0 structure, tier times equal to the timeline, no overlaps within a tier."""

from __future__ import annotations

import itertools
import random
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from motiflens.reports.elan import DEFAULT_DATE, Span, split_overlaps, to_eaf, write_eaf
from report_helpers import ALL_PAYLOADS, make_timeline

XSI = "{http://www.w3.org/2001/XMLSchema-instance}"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _expected(document: dict[str, Any]) -> dict[str, Counter]:
    """The annotations each base tier should hold, computed straight from the timeline."""
    expected: dict[str, Counter] = {name: Counter() for name in ("transcript-asr", "transcript-ocr", "symbols",
                                                                 "events", "themes", "shots")}
    for segment in document["transcript"]["segments"]:
        tier = f"transcript-{segment['source']}"
        expected[tier][(_ms(segment["start_seconds"]), _ms(segment["end_seconds"]), segment["text"])] += 1
    for symbol in document["symbols"]:
        value = f"{symbol['label']} [{symbol['role']}]"
        expected["symbols"][(_ms(symbol["start_seconds"]), _ms(symbol["end_seconds"]), value)] += 1
    for event in document["events"]:
        value = f"{event['type']} ({event['confidence']:.2f})"
        expected["events"][(_ms(event["start_seconds"]), _ms(event["end_seconds"]), value)] += 1
    for theme in document["themes"]:
        value = f"{theme['theme']} ({theme['score']:.2f})"
        expected["themes"][(_ms(theme["start_seconds"]), _ms(theme["end_seconds"]), value)] += 1
    for shot in document["shots"]:
        expected["shots"][(_ms(shot["start_seconds"]), _ms(shot["end_seconds"]), f"shot {shot['index']}")] += 1
    return expected


def _tiers(root: ET.Element) -> dict[str, list[tuple[int, int, str]]]:
    slots = {slot.get("TIME_SLOT_ID"): int(slot.get("TIME_VALUE", "-1")) for slot in root.iter("TIME_SLOT")}
    tiers = {}
    for tier in root.findall("TIER"):
        annotations = []
        for alignable in tier.iter("ALIGNABLE_ANNOTATION"):
            value = alignable.findtext("ANNOTATION_VALUE") or ""
            annotations.append((slots[alignable.get("TIME_SLOT_REF1")], slots[alignable.get("TIME_SLOT_REF2")], value))
        tiers[tier.get("TIER_ID")] = annotations
    return tiers


def test_structure_is_eaf_3() -> None:
    root = ET.fromstring(to_eaf(make_timeline(), "/media/lantern vow.mp4", relative_media_url="../x.mp4"))
    assert root.tag == "ANNOTATION_DOCUMENT"
    assert (root.get("FORMAT"), root.get("VERSION"), root.get("DATE")) == ("3.0", "3.0", DEFAULT_DATE)
    assert root.get("AUTHOR") == "MotifLens 0.1.0"
    assert root.get(f"{XSI}noNamespaceSchemaLocation") == "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"
    # The schema fixes the order of the top-level elements.
    order = [child.tag for child in root]
    assert order[:2] == ["HEADER", "TIME_ORDER"] and order[-2:] == ["LINGUISTIC_TYPE", "LOCALE"]
    assert set(order[2:-2]) == {"TIER"}
    header = root.find("HEADER")
    assert header is not None and header.get("TIME_UNITS") == "milliseconds"
    media = header.find("MEDIA_DESCRIPTOR")
    assert media is not None and media.attrib == {
        "MEDIA_URL": "file:///media/lantern%20vow.mp4", "MIME_TYPE": "video/mp4", "RELATIVE_MEDIA_URL": "../x.mp4"
    }
    linguistic = root.find("LINGUISTIC_TYPE")
    assert linguistic is not None and linguistic.get("LINGUISTIC_TYPE_ID") == "default-lt"
    assert linguistic.get("TIME_ALIGNABLE") == "true"
    assert {tier.get("LINGUISTIC_TYPE_REF") for tier in root.findall("TIER")} == {"default-lt"}
    locale = root.find("LOCALE")
    assert locale is not None and locale.get("LANGUAGE_CODE") == "en"
    annotation_ids = [a.get("ANNOTATION_ID") for a in root.iter("ALIGNABLE_ANNOTATION")]
    assert len(set(annotation_ids)) == len(annotation_ids)
    assert header.findtext("PROPERTY[@NAME='lastUsedAnnotationId']") == str(len(annotation_ids))


def test_tier_times_match_the_timeline() -> None:
    document = make_timeline(ALL_PAYLOADS)
    root = ET.fromstring(to_eaf(document, None))
    assert root.find("HEADER/MEDIA_DESCRIPTOR") is None

    values = [int(slot.get("TIME_VALUE", "-1")) for slot in root.iter("TIME_SLOT")]
    assert values == sorted(values) and values[0] >= 0
    ids = [slot.get("TIME_SLOT_ID") for slot in root.iter("TIME_SLOT")]
    assert ids == [f"ts{n}" for n in range(1, len(ids) + 1)]

    tiers = _tiers(root)
    for base, expected in _expected(document).items():
        found = Counter()
        for tier_id, spans in tiers.items():
            if tier_id == base or (tier_id.startswith(f"{base}-") and tier_id[len(base) + 1 :].isdigit()):
                found.update(spans)
        assert found == expected, base
    # The fixture's symbols overlap (0-4.32 and 2.6-5.0), so they need a second tier.
    assert "symbols-2" in tiers and "symbols-3" not in tiers
    for tier_id, spans in tiers.items():
        ordered = sorted(spans)
        for before, after in itertools.pairwise(ordered):
            assert before[1] <= after[0], f"{tier_id}: {before} overlaps {after}"
        assert all(end > start for start, end, _ in spans)


def test_text_that_xml_cannot_carry() -> None:
    document = make_timeline()
    document["transcript"]["segments"][0]["text"] = "bell\x07 & <b>"
    root = ET.fromstring(to_eaf(document, None))
    assert "bell\ufffd & <b>" in [value for _, _, value in _tiers(root)["transcript-asr"]]


def test_point_items_get_one_millisecond() -> None:
    document = make_timeline()
    document["events"] = [{**document["events"][0], "start_seconds": 2.0, "end_seconds": 2.0}]
    assert _tiers(ET.fromstring(to_eaf(document, None)))["events"] == [(2000, 2001, "vow (0.91)")]


def test_split_overlaps_uses_the_fewest_tiers() -> None:
    generator = random.Random(7)
    spans = sorted(
        (Span(start, start + generator.randint(1, 800), "x") for start in
         (generator.randint(0, 5000) for _ in range(300))),
        key=lambda s: (s.start_ms, s.end_ms),
    )
    rows = split_overlaps(spans)
    assert Counter(span for row in rows for span in row) == Counter(spans)
    for row in rows:
        assert all(a.end_ms <= b.start_ms for a, b in itertools.pairwise(row))
    # Interval partitioning: the fewest rows possible equal the deepest overlap at any instant.
    depth = max(sum(s.start_ms <= t < s.end_ms for s in spans) for t in {s.start_ms for s in spans})
    assert len(rows) == depth


def test_write_eaf_links_the_media(tmp_path: Path) -> None:
    video = tmp_path / "inputs" / "第一集 #1.mp4"
    video.parent.mkdir()
    video.write_bytes(b"")
    folder = tmp_path / "out" / "videos" / "lantern-vow-test"
    path = write_eaf(make_timeline(), folder, video, date="2026-11-28T15:23:06+00:00")
    assert path == folder / "lantern-vow-test.eaf"
    root = ET.parse(path).getroot()
    assert root.get("DATE") == "2026-11-28T15:23:06+00:00"
    media = root.find("HEADER/MEDIA_DESCRIPTOR")
    assert media is not None and media.get("MEDIA_URL") == video.resolve().as_uri()
    relative = media.get("RELATIVE_MEDIA_URL", "")
    assert relative.startswith("../") and "#" not in relative
    assert (folder / unquote(relative)).resolve() == video.resolve()
    again = write_eaf(make_timeline(), folder, video, date="2026-11-28T15:23:06+00:00")
    assert again.read_bytes() == path.read_bytes()
    assert not list(folder.glob("*.part"))
