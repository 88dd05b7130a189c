"""symbols.vtt: one escaped cue per symbol occurrence, in time order."""

from __future__ import annotations

from pathlib import Path

from motiflens.story.tracks import symbols_vtt, write_symbols_vtt


def _document() -> dict:
    return {
        "events": [{"id": "event-0001", "type": "betrayal", "start_seconds": 5.4, "end_seconds": 9.7}],
        "symbols": [
            {
                "symbol_id": "red_lantern",
                "label": "Red <b>lantern</b> & co",
                "start_seconds": 62.5,
                "end_seconds": 62.5,
                "role": "referenced",
                "narrative_weight": 0.3,
                "evidence": [
                    {"kind": "mention", "start_seconds": 62.5, "end_seconds": 63.0, "text": "<script>x</script>\n-->"},
                ],
            },
            {
                "symbol_id": "jade_teapot",
                "label": "Jade teapot",
                "start_seconds": 0.0,
                "end_seconds": 3.1,
                "role": "catalyst",
                "narrative_weight": 0.72,
                "evidence": [
                    {
                        "kind": "mention",
                        "start_seconds": 0.75,
                        "end_seconds": 4.73,
                        "text": "这把玉壶是我们家的传家宝。",
                    },
                    {"kind": "mention", "start_seconds": 5.0, "end_seconds": 6.0, "text": "second line, not shown"},
                    {"kind": "event", "start_seconds": 5.4, "end_seconds": 9.7, "ref": "event-0001", "text": "x"},
                    {"kind": "recurrence", "start_seconds": 0.0, "end_seconds": 5.2, "text": "on screen in 2 shots"},
                ],
            },
        ],
    }


def _cues(vtt: str) -> list[list[str]]:
    return [block.split("\n") for block in vtt.strip("\n").split("\n\n")[1:]]


def test_cues_are_sorted_by_start_with_role_weight_and_evidence() -> None:
    vtt = symbols_vtt(_document())
    assert vtt.startswith("WEBVTT\n\n")
    teapot, lantern = _cues(vtt)
    assert teapot == [
        "symbol-0001",
        "00:00:00.000 --> 00:00:03.100",
        "Jade teapot — catalyst (0.72)",
        'named: "这把玉壶是我们家的传家宝…" · event: betrayal · recurrence: on screen in 2 shots',
    ]
    assert lantern[0] == "symbol-0002"
    # A zero-length occurrence still gets a cue players will show.
    assert lantern[1] == "00:01:02.500 --> 00:01:02.501"


def test_text_from_the_video_is_escaped_and_kept_on_its_line() -> None:
    _, lantern = _cues(symbols_vtt(_document()))
    assert lantern[2:] == [
        "Red &lt;b&gt;lantern&lt;/b&gt; &amp; co — referenced (0.30)",
        'named: "&lt;script&gt;x&lt;/script&gt; --&gt;"',
    ]


def test_missing_optional_fields_give_a_headline_only_cue() -> None:
    document = {"symbols": [{"symbol_id": "kite", "start_seconds": 1.0, "end_seconds": 2.0}]}
    assert _cues(symbols_vtt(document)) == [["symbol-0001", "00:00:01.000 --> 00:00:02.000", "kite"]]


def test_no_symbols_gives_a_header_only_track() -> None:
    assert symbols_vtt({"symbols": []}) == "WEBVTT\n"


def test_write_symbols_vtt_replaces_the_file(tmp_path: Path) -> None:
    (tmp_path / "symbols.vtt").write_text("stale", encoding="utf-8")
    path = write_symbols_vtt(_document(), tmp_path)
    assert path == tmp_path / "symbols.vtt"
    assert path.read_text(encoding="utf-8") == symbols_vtt(_document())
    assert sorted(item.name for item in tmp_path.iterdir()) == ["symbols.vtt"]
