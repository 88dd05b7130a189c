"""`motiflens evaluate`: a hand-built run against a hand-built gold coding, with every number worked out by hand."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from motiflens.cli.main import cli
from motiflens.core.errors import InputError
from motiflens.reports.evaluation import (
    GoldRow,
    Item,
    evaluate_run,
    greedy_match,
    parse_seconds,
    read_gold,
    render_markdown,
)
from motiflens.reports.labelstudio import labelstudio_config, read_labelstudio_roles, to_labelstudio_tasks
from report_helpers import make_timeline

LANTERN = "lantern-vow-1a2b3c4d"
JADE = "jade-teapot-5e6f7a8b"
EMPTY = "empty-ep-0c0c0c0c"


def _mention(symbol_id: str, start: float, end: float) -> dict[str, Any]:
    return {"symbol_id": symbol_id, "segment_id": "asr-0001", "start_seconds": start, "end_seconds": end,
            "text": f"a line naming {symbol_id}", "match": "keyword", "score": 1.0}


def _event(number: int, kind: str, start: float, end: float) -> dict[str, Any]:
    return {"id": f"event-{number:04d}", "type": kind, "start_seconds": start, "end_seconds": end,
            "confidence": 0.8, "cues": ["dialogue"], "segment_ids": ["asr-0001"]}


def _occurrence(symbol_id: str, start: float, end: float, role: str) -> dict[str, Any]:
    return {"symbol_id": symbol_id, "label": symbol_id.replace("_", " ").capitalize(), "start_seconds": start,
            "end_seconds": end, "peak_seconds": start, "peak_score": 0.7, "mean_score": 0.6, "origin": "visual",
            "role": role, "narrative_weight": 0.5,
            "evidence": [{"kind": "visual", "start_seconds": start, "end_seconds": end}]}


# What the run predicts, per video: mentions, events, symbol occurrences.
PREDICTIONS: dict[str, dict[str, list[dict[str, Any]]]] = {
    LANTERN: {
        "mentions": [_mention("red_lantern", 0.344, 2.944), _mention("red_lantern", 20.0, 21.0),
                     _mention("spring_couplets", 3.724, 7.25), _mention("dumplings", 30.0, 31.0)],
        "events": [_event(1, "vow", 3.724, 7.25), _event(2, "reconciliation", 7.7, 9.1),
                   _event(3, "betrayal", 40.0, 42.0)],
        "symbols": [_occurrence("red_lantern", 0.0, 4.32, "catalyst"), _occurrence("dumplings", 2.6, 5.0, "decorative"),
                    _occurrence("spring_couplets", 4.32, 7.25, "referenced"),
                    _occurrence("jade_teapot", 50.0, 55.0, "decorative"),
                    _occurrence("red_lantern", 70.0, 72.0, "referenced")],
    },
    JADE: {
        "mentions": [_mention("jade_teapot", 1.0, 2.0)],
        "events": [_event(1, "betrayal", 5.0, 6.0)],
        "symbols": [_occurrence("jade_teapot", 0.5, 3.0, "catalyst")],
    },
    EMPTY: {
        "mentions": [_mention("dumplings", 1.0, 2.0)],
        "events": [_event(1, "vow", 3.0, 4.0)],
        "symbols": [_occurrence("dumplings", 1.0, 2.0, "decorative")],
    },
}
PATHS = {LANTERN: "series/lantern_vow.mp4", JADE: "jade_teapot.mp4", EMPTY: "series/empty_ep.mp4"}

GOLD_CSV = """video,kind,start_seconds,end_seconds,symbol_id,event_type,role,note
lantern_vow,mention,0.5,3.0,red_lantern,,,matched by the file stem
lantern_vow.mp4,mention,4.0,7.0,spring_couplets,,,matched by the file name
lantern-vow-1a2b3c4d,mention,12.0,13.0,red_lantern,,,the run names it at 20 s only: a miss
jade_teapot,mention,2.5,3.0,jade_teapot,,,0.5 s after the run's mention: a hit within 1 s
jade_teapot,mention,0:10,0:11,jade_teapot,,,clock times
lantern_vow,event,3.5,7.0,,vow,,
lantern_vow,event,7.5,9.0,,confession,,the run calls it a reconciliation
jade_teapot,event,5.2,6.1,,betrayal,,
jade_teapot,event,20,22,,loss,,
lantern_vow,role,0,4,red_lantern,,catalyst,
lantern_vow,role,2.5,5,dumplings,,catalyst,the run says decorative
lantern_vow,role,4.5,7,spring_couplets,,referenced,
lantern_vow,role,60,62,red_lantern,,decorative,the run has no occurrence here
jade_teapot,role,0,3,jade_teapot,,catalyst,
jade_teapot,role,10,12,jade_teapot,,decorative,
lantern_vow,role,50,55,jade_teapot,,referenced,
broken,mention,1,2,red_lantern,,,the run failed on this video
episode_99,role,1,2,red_lantern,,catalyst,never run
series/empty_ep.mp4,none,,,,,,coded: nothing here
"""


def _predictions_schema() -> dict[str, Any]:
    """The shipped timeline schema's rules for the three arrays evaluate reads (mentions, events, symbols)."""
    text = resources.files("motiflens").joinpath("schemas/timeline.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    keys = ("mentions", "events", "symbols")
    return {"$defs": schema["$defs"], "type": "object", "required": list(keys),
            "properties": {key: schema["properties"][key] for key in keys}}


def make_run(run_dir: Path, predictions: dict[str, dict[str, list[dict[str, Any]]]] = PREDICTIONS,
             paths: dict[str, str] = PATHS) -> Path:
    """run.json with the ok videos of `predictions` and one failed video, and a timeline per ok video whose
    mentions, events and symbols validate against the shipped schema."""
    validator = jsonschema.Draft202012Validator(_predictions_schema())
    entries = []
    for video_id, predicted in predictions.items():
        document = make_timeline(video_path=paths[video_id])
        document["video"]["id"] = video_id
        document.update(copy.deepcopy(predicted))
        errors = [error.message for error in validator.iter_errors(document)]
        assert not errors, errors
        timeline = run_dir / "videos" / video_id / "timeline.json"
        timeline.parent.mkdir(parents=True, exist_ok=True)
        timeline.write_text(json.dumps(document, indent=2), encoding="utf-8")
        entries.append({"video_id": video_id, "path": paths[video_id], "file": f"/data/{paths[video_id]}",
                        "status": "ok", "timeline": f"videos/{video_id}/timeline.json"})
    entries.append({"video_id": "broken-9a9a9a9a", "path": "broken.mp4", "file": "/data/broken.mp4",
                    "status": "failed", "error": "cannot open broken.mp4: moov atom not found\nffmpeg said: ..."})
    run = {"schema_version": "1", "package_version": "0.1.0", "config_hash": "cbab9b5f34998632",
           "counts": {"ok": len(predictions), "failed": 1, "skipped": 0}, "videos": entries}
    (run_dir / "run.json").write_text(json.dumps(run, indent=2), encoding="utf-8")
    return run_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run")


@pytest.fixture
def gold_csv(tmp_path: Path) -> Path:
    path = tmp_path / "gold.csv"
    path.write_text(GOLD_CSV, encoding="utf-8")
    return path


def test_mentions(run_dir: Path, gold_csv: Path) -> None:
    mentions = evaluate_run(run_dir, gold_csv, resamples=200)["mentions"]
    # red_lantern: the 0.5-3.0 gold pairs with 0.344-2.944; the 12-13 gold misses, the run's 20-21 is spurious.
    # jade_teapot: 2.5-3.0 pairs with 1.0-2.0 (0.5 s apart, within 1 s); 10-11 is missed.
    # dumplings: named twice by the run (lantern at 30 s, the empty episode), never in the gold.
    assert mentions["per_symbol"] == {
        "dumplings": {"gold": 0, "predicted": 2, "tp": 0, "fp": 2, "fn": 0, "precision": 0.0, "recall": None,
                      "f1": 0.0},
        "jade_teapot": {"gold": 2, "predicted": 1, "tp": 1, "fp": 0, "fn": 1, "precision": 1.0, "recall": 0.5,
                        "f1": 0.666667},
        "red_lantern": {"gold": 2, "predicted": 2, "tp": 1, "fp": 1, "fn": 1, "precision": 0.5, "recall": 0.5,
                        "f1": 0.5},
        "spring_couplets": {"gold": 1, "predicted": 1, "tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0,
                            "f1": 1.0},
    }
    # micro: tp 3, fp 3, fn 2 → P 3/6, R 3/5, F1 6/11.
    assert mentions["micro"] == {"tp": 3, "fp": 3, "fn": 2, "precision": 0.5, "recall": 0.6, "f1": 0.545455}
    # macro: P (0 + 1 + 0.5 + 1)/4, R (0.5 + 0.5 + 1)/3 (undefined for dumplings), F1 (0 + 2/3 + 0.5 + 1)/4.
    assert mentions["macro"] == {"precision": 0.625, "recall": 0.666667, "f1": 0.541667, "labels": 4}
    assert (mentions["gold"], mentions["predicted"]) == (5, 6)
    assert [match["row"] for match in mentions["matches"]] == [2, 3, 4, 5, 6]
    assert mentions["matches"][3]["predicted"] == {"start_seconds": 1.0, "end_seconds": 2.0}
    assert mentions["matches"][2]["predicted"] is None
    assert {(fp["video_id"], fp["symbol_id"], fp["start_seconds"]) for fp in mentions["false_positives"]} == {
        (LANTERN, "red_lantern", 20.0), (LANTERN, "dumplings", 30.0), (EMPTY, "dumplings", 1.0)}


def test_tolerance(run_dir: Path, gold_csv: Path) -> None:
    # With a quarter second, the jade teapot mention 0.5 s away no longer matches.
    mentions = evaluate_run(run_dir, gold_csv, tolerance=0.25, resamples=200)["mentions"]
    assert {key: mentions["per_symbol"]["jade_teapot"][key] for key in ("tp", "fp", "fn")} == {"tp": 0, "fp": 1,
                                                                                               "fn": 2}
    assert mentions["per_symbol"]["red_lantern"]["tp"] == 1


def test_events(run_dir: Path, gold_csv: Path) -> None:
    events = evaluate_run(run_dir, gold_csv, resamples=200)["events"]
    assert events["per_type"] == {
        # the jade betrayal pairs; the lantern's at 40 s is spurious
        "betrayal": {"gold": 1, "predicted": 2, "tp": 1, "fp": 1, "fn": 0, "precision": 0.5, "recall": 1.0,
                     "f1": 0.666667},
        "confession": {"gold": 1, "predicted": 0, "tp": 0, "fp": 0, "fn": 1, "precision": None, "recall": 0.0,
                       "f1": 0.0},
        "loss": {"gold": 1, "predicted": 0, "tp": 0, "fp": 0, "fn": 1, "precision": None, "recall": 0.0, "f1": 0.0},
        "reconciliation": {"gold": 0, "predicted": 1, "tp": 0, "fp": 1, "fn": 0, "precision": 0.0, "recall": None,
                           "f1": 0.0},
        # the empty episode's vow is spurious: it was coded with nothing in it
        "vow": {"gold": 1, "predicted": 2, "tp": 1, "fp": 1, "fn": 0, "precision": 0.5, "recall": 1.0,
                "f1": 0.666667},
    }
    # micro: tp 2, fp 3, fn 2 → P 0.4, R 0.5, F1 4/9; macro P (0.5 + 0 + 0.5)/3, R (1 + 0 + 0 + 1)/4,
    # F1 (2/3 + 0 + 0 + 0 + 2/3)/5.
    assert events["micro"] == {"tp": 2, "fp": 3, "fn": 2, "precision": 0.4, "recall": 0.5, "f1": 0.444444}
    assert events["macro"] == {"precision": 0.333333, "recall": 0.5, "f1": 0.266667, "labels": 5}
    # Ignoring the type, the confession pairs with the reconciliation: tp 3 (vow, confession, betrayal),
    # fp 2 (betrayal at 40 s, the empty episode's vow), fn 1 (loss).
    assert events["type_agnostic"] == {"tp": 3, "fp": 2, "fn": 1, "precision": 0.6, "recall": 0.75,
                                       "f1": 0.666667}


def test_roles(run_dir: Path, gold_csv: Path) -> None:
    roles = evaluate_run(run_dir, gold_csv, resamples=500)["roles"]
    assert [(unit["row"], unit["gold"], unit["predicted"]) for unit in roles["units"]] == [
        (11, "catalyst", "catalyst"),
        (12, "catalyst", "decorative"),
        (13, "referenced", "referenced"),
        (14, "decorative", "missing"),
        (15, "catalyst", "catalyst"),
        (16, "decorative", "missing"),
        (17, "referenced", "decorative"),
    ]
    assert roles["confusion"] == {
        "decorative": {"decorative": 0, "referenced": 0, "catalyst": 0, "missing": 2},
        "referenced": {"decorative": 1, "referenced": 1, "catalyst": 0, "missing": 0},
        "catalyst": {"decorative": 1, "referenced": 0, "catalyst": 2, "missing": 0},
    }
    assert (roles["gold"], roles["matched"], roles["missing"]) == (7, 5, 2)
    matched = roles["matched_pairs"]
    # Matched pairs: gold c c r c r, run c d r c d. p_o = 3/5; marginals gold (c 3, r 2), run (c 2, d 2, r 1):
    # p_e = (3*2 + 2*1)/25 = 0.32, kappa = 0.28/0.68 = 7/17.
    # Coincidences o_cc = 4, o_rr = 2, o_cd = o_dc = o_rd = o_dr = 1; n_c 5, n_r 3, n_d 2, n 10:
    # alpha = 1 - 9 * 4 / (100 - 25 - 9 - 4) = 1 - 36/62 = 26/62.
    assert (matched["n"], matched["accuracy"]) == (5, 0.6)
    assert matched["cohen_kappa"]["value"] == round(7 / 17, 6)
    assert matched["krippendorff_alpha"]["value"] == round(26 / 62, 6)
    everything = roles["all_gold"]
    # All seven gold units, `missing` a category: p_o = 3/7; marginals gold (c 3, r 2, d 2), run (c 2, d 2, r 1,
    # m 2): p_e = (6 + 2 + 4)/49, kappa = (21 - 12)/(49 - 12) = 9/37.
    # Coincidences add o_dm = o_md = 2: n_c 5, n_r 3, n_d 4, n_m 2, n 14, off-diagonal 8:
    # alpha = 1 - 13 * 8 / (196 - 25 - 9 - 16 - 4) = 1 - 104/142 = 38/142.
    assert (everything["n"], everything["accuracy"]) == (7, round(3 / 7, 6))
    assert everything["cohen_kappa"]["value"] == round(9 / 37, 6)
    assert everything["krippendorff_alpha"]["value"] == round(38 / 142, 6)
    for statistic in (matched["cohen_kappa"], matched["krippendorff_alpha"], everything["cohen_kappa"],
                      everything["krippendorff_alpha"]):
        low, high = statistic["ci"]
        assert low <= statistic["value"] <= high
    # The lantern's red lantern at 70 s and the empty episode's dumplings: matched by no gold unit.
    assert roles["unmatched_predictions"] == {"decorative": 1, "referenced": 1}
    assert roles["predictions_taken_by_several_gold_units"] == 0


def test_videos_and_determinism(run_dir: Path, gold_csv: Path) -> None:
    report = evaluate_run(run_dir, gold_csv, resamples=300)
    assert report == evaluate_run(run_dir, gold_csv, resamples=300)
    assert report["videos"]["evaluated"] == [
        {"video_id": LANTERN, "gold_names": ["lantern_vow", "lantern_vow.mp4", LANTERN], "gold_units": 10},
        {"video_id": JADE, "gold_names": ["jade_teapot"], "gold_units": 6},
        {"video_id": EMPTY, "gold_names": ["series/empty_ep.mp4"], "gold_units": 0},
    ]
    assert report["videos"]["not_evaluated"] == [
        {"video": "broken", "video_id": "broken-9a9a9a9a", "status": "failed",
         "error": "cannot open broken.mp4: moov atom not found", "gold_units": 1},
        {"video": "episode_99", "video_id": None, "status": "not in the run", "error": None, "gold_units": 1},
    ]
    assert report["gold"]["units_by_kind"] == {"mention": 6, "event": 4, "role": 8}
    # Seven names in the gold, five videos: three names of the lantern episode, a failed one, an unknown one.
    assert report["gold"]["videos"] == 5
    assert report["gold"]["symbols_never_in_the_run"] == []
    assert report["gold"]["format"] == "csv" and report["settings"]["tolerance_seconds"] == 1.0


def test_kinds_not_coded_are_not_evaluated(run_dir: Path, tmp_path: Path) -> None:
    gold = tmp_path / "roles-only.csv"
    gold.write_text("video;kind;start_seconds;end_seconds;symbol_id;role\n"
                    "jade_teapot;role;0;3;jade_teapot;catalyst\njade_teapot;role;0;3;jade_tepot;catalyst\n",
                    encoding="utf-8")
    report = evaluate_run(run_dir, gold, resamples=100)
    assert report["mentions"] is None and report["events"] is None
    roles = report["roles"]
    assert (roles["matched_pairs"]["n"], roles["all_gold"]["n"]) == (1, 2)
    assert report["gold"]["symbols_never_in_the_run"] == ["jade_tepot"]
    markdown = render_markdown(report)
    assert "(a typo, or symbols the run misses altogether): `jade_tepot`." in markdown
    assert "## Symbol mentions" not in markdown and "## Plot events" not in markdown
    # One unit, one category: kappa and alpha are undefined, not 1.
    assert roles["matched_pairs"]["cohen_kappa"] == {"value": None, "ci": [None, None]}
    assert roles["matched_pairs"]["krippendorff_alpha"]["value"] is None


def test_greedy_matching_is_one_to_one_closest_first() -> None:
    gold = [GoldRow(2, "v", "mention", 0.0, 2.0), GoldRow(3, "v", "mention", 2.5, 4.0)]
    items = [Item("s", 2.4, 4.1, 0), Item("s", 0.2, 2.1, 1), Item("s", 1.0, 3.0, 2)]
    assert greedy_match(gold, items, tolerance=0.0) == {0: 1, 1: 0}
    # One prediction across two gold spans serves only one of them, the one whose midpoint is closer (3.25).
    assert greedy_match(gold, [Item("s", 1.5, 3.0, 0)], tolerance=0.0) == {1: 0}
    assert greedy_match(gold, [Item("s", 5.5, 6.0, 0)], tolerance=1.0) == {}
    assert greedy_match(gold, [Item("s", 5.0, 6.0, 0)], tolerance=1.0) == {1: 0}


def test_one_occurrence_for_two_gold_roles(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", {JADE: PREDICTIONS[JADE]}, PATHS)
    gold = tmp_path / "gold.csv"
    gold.write_text("video,kind,start_seconds,end_seconds,symbol_id,role\n"
                    "jade_teapot,role,0,1,jade_teapot,catalyst\njade_teapot,role,2,3,jade_teapot,decorative\n",
                    encoding="utf-8")
    roles = evaluate_run(run, gold, resamples=100)["roles"]
    assert [unit["predicted"] for unit in roles["units"]] == ["catalyst", "catalyst"]
    assert roles["predictions_taken_by_several_gold_units"] == 1
    assert roles["unmatched_predictions"] == {}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("lantern_vow,scene,1,2,red_lantern,,,", r"row 3, column kind: 'scene' is not one of mention"),
        ("lantern_vow,mention,1,2,,,,", r"row 3, column symbol_id: empty; kind 'mention' needs it"),
        ("lantern_vow,mention,one,2,red_lantern,,,", r"row 3, column start_seconds: 'one' is not a number"),
        ('lantern_vow,mention,1,"2,5",red_lantern,,,', r"row 3, column end_seconds: '2,5' is not a number"),
        ("lantern_vow,mention,3,2,red_lantern,,,", r"row 3, column end_seconds: 2 is before start_seconds 3"),
        ("lantern_vow,mention,-1,2,red_lantern,,,", r"row 3, column start_seconds: '-1' must be"),
        ("lantern_vow,mention,0:75,2,red_lantern,,,", r"row 3, column start_seconds: '0:75' is not a valid"),
        ("lantern_vow,role,1,2,red_lantern,,central,", r"row 3, column role: 'central' is not one of decorative"),
        ("lantern_vow,event,1,2,,duel,,", r"row 3, column event_type: 'duel' is not one of confrontation"),
        ("lantern_vow,mention,1,2,red_lantern,,catalyst,", r"row 3, column role: must be empty for kind 'mention'"),
        (",mention,1,2,red_lantern,,,", r"row 3, column video: empty"),
        ("lantern_vow,none,1,,,,,", r"row 3, column start_seconds: must be empty for kind 'none'"),
    ],
)
def test_bad_rows_name_row_and_column(tmp_path: Path, line: str, message: str) -> None:
    gold = tmp_path / "gold.csv"
    header, first = GOLD_CSV.splitlines()[:2]
    gold.write_text(f"{header}\n{first}\n{line}\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_gold(gold)


def test_every_bad_row_is_listed(tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("video,kind,start_seconds,end_seconds,symbol_id\n"
                    "a,mention,1,2,red_lantern\n\na,mention,x,2,red_lantern\na,role,1,2,red_lantern\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_gold(gold)
    text = str(caught.value)
    assert "2 problem(s)" in text
    # Blank line 3 is skipped but still counted, as a spreadsheet numbers rows.
    assert "row 4, column start_seconds" in text
    assert "row 5, column role: the column is missing from the header; kind 'role' needs it" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("video,kind,start_seconds\n", r"row 1 \(header\) lacks column\(s\) end_seconds"),
        ("video,kind,start_seconds,end_seconds,kind\n", "more than once"),
        ("video,kind,start_seconds,end_seconds\n", "no rows"),
    ],
)
def test_bad_header(tmp_path: Path, content: str, message: str) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_gold(gold)


def test_clock_times() -> None:
    assert parse_seconds("12.5") == 12.5
    assert parse_seconds("0:12.5") == 12.5
    assert parse_seconds("01:02:03.5") == 3723.5
    for bad in ("1:2:3:4", "nan", "inf", "12,5"):
        with pytest.raises(ValueError):
            parse_seconds(bad)


def test_gold_that_fits_no_video_or_two(tmp_path: Path, run_dir: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("video,kind,start_seconds,end_seconds,symbol_id\nother_show,mention,1,2,red_lantern\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="none of its 1 video"):
        evaluate_run(run_dir, gold)
    twice = make_run(tmp_path / "twice", {LANTERN: PREDICTIONS[LANTERN], JADE: PREDICTIONS[JADE]},
                     {LANTERN: "a/episode.mp4", JADE: "b/episode.mp4"})
    gold.write_text("video,kind,start_seconds,end_seconds,symbol_id\nepisode.mp4,mention,1,2,red_lantern\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=rf"'episode.mp4' \(rows 2\) fits several videos .*{LANTERN}, {JADE}"):
        evaluate_run(twice, gold)
    # The path as given to `motiflens run` tells them apart.
    gold.write_text("video,kind,start_seconds,end_seconds,symbol_id\nb/episode.mp4,mention,1,2,jade_teapot\n",
                    encoding="utf-8")
    assert evaluate_run(twice, gold, resamples=100)["mentions"]["micro"]["tp"] == 1


# ------------------------------------------------------------------------------------------------------------
# Label Studio


def _labelstudio_export(run_dir: Path) -> list[dict[str, Any]]:
    """The run's tasks as Label Studio exports them after annotation (verdict plus role)."""
    documents = [json.loads((run_dir / "videos" / video_id / "timeline.json").read_text(encoding="utf-8"))
                 for video_id in (LANTERN, JADE)]
    tasks = to_labelstudio_tasks(documents, {LANTERN: "/v/lantern.mp4", JADE: "/v/jade.mp4"})

    def annotation(verdict: str, role: str | None = None, ground_truth: bool = False) -> dict[str, Any]:
        result = [{"from_name": "verdict", "to_name": "video", "type": "choices", "value": {"choices": [verdict]}}]
        if role is not None:
            result.append({"from_name": "role", "to_name": "video", "type": "choices", "value": {"choices": [role]}})
        return {"id": 1, "result": result, "was_cancelled": False, "ground_truth": ground_truth}

    exported = [{"id": number, **task, "annotations": []} for number, task in enumerate(tasks)]
    # Tasks: 0 red_lantern catalyst, 1 dumplings decorative, 2 spring_couplets referenced, 3 jade_teapot (lantern)
    # decorative, 4 red_lantern 70 s referenced, 5 jade_teapot (jade) catalyst.
    exported[0]["annotations"] = [annotation("present", "catalyst")]
    exported[1]["annotations"] = [annotation("present", "catalyst"), annotation("present", "decorative"),
                                  annotation("present", "catalyst", ground_truth=True)]
    exported[2]["annotations"] = [annotation("present", "referenced"), annotation("present", "referenced")]
    exported[3]["annotations"] = [annotation("absent", "catalyst")]  # a role left over from before the flip
    exported[4]["annotations"] = [annotation("present")]
    exported[5]["annotations"] = [annotation("present", "catalyst")]
    return exported


def test_labelstudio_config_has_the_role_question() -> None:
    import xml.etree.ElementTree as ET

    choices = ET.fromstring(labelstudio_config()).findall("Choices")
    assert [c.get("name") for c in choices] == ["verdict", "role"]
    role = choices[1]
    assert [c.get("value") for c in role.findall("Choice")] == ["decorative", "referenced", "catalyst"]
    assert (role.get("visibleWhen"), role.get("whenTagName"), role.get("whenChoiceValue")) == (
        "choice-selected", "verdict", "present")
    assert role.get("required") is None


def test_labelstudio_tasks_hide_the_pipelines_role() -> None:
    document = make_timeline()
    document["symbols"][0]["evidence"].insert(0, {"kind": "role", "start_seconds": 0.0, "end_seconds": 4.32,
                                                  "text": "catalyst: named near the occurrence"})
    data = to_labelstudio_tasks([document], {"lantern-vow-test": "/v.mp4"})[0]["data"]
    assert "catalyst" not in data["evidence_text"] and "catalyst" not in data["question"]
    assert "This red lantern belonged to my grandmother." in data["evidence_text"]


def test_labelstudio_roles(run_dir: Path, tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_labelstudio_export(run_dir)), encoding="utf-8")
    rows, summary = read_labelstudio_roles(export)
    assert [(row["task"], row["symbol_id"], row["role"]) for row in rows] == [
        (0, "red_lantern", "catalyst"), (1, "dumplings", "catalyst"), (2, "spring_couplets", "referenced"),
        (5, "jade_teapot", "catalyst")]
    assert summary == {"tasks": 6, "annotated": 6, "absent": 1, "present_without_role": 1, "videos": [LANTERN, JADE]}

    report = evaluate_run(run_dir, export, resamples=200)
    assert report["mentions"] is None and report["events"] is None
    assert report["gold"]["format"] == "labelstudio"
    roles = report["roles"]
    assert [(unit["row"], unit["gold"], unit["predicted"]) for unit in roles["units"]] == [
        (0, "catalyst", "catalyst"), (1, "catalyst", "decorative"), (2, "referenced", "referenced"),
        (5, "catalyst", "catalyst")]
    # The absent jade teapot, the red lantern without a role and the empty episode (never annotated, out of scope).
    assert roles["unmatched_predictions"] == {"decorative": 1, "referenced": 1}


def test_labelstudio_disagreement_names_the_task(run_dir: Path, tmp_path: Path) -> None:
    exported = _labelstudio_export(run_dir)
    exported[2]["annotations"][1]["result"][1]["value"]["choices"] = ["catalyst"]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(exported), encoding="utf-8")
    with pytest.raises(InputError, match=r"task 2: its annotations disagree \(present catalyst; present referenced\)"):
        read_labelstudio_roles(export)
    exported[2]["annotations"][1]["result"][1]["value"]["choices"] = ["central"]
    export.write_text(json.dumps(exported), encoding="utf-8")
    with pytest.raises(InputError, match=r"task 2, annotation 1: the 'role' result must hold exactly one of"):
        read_labelstudio_roles(export)


# ------------------------------------------------------------------------------------------------------------
# The command


def test_cli_writes_json_and_markdown(run_dir: Path, gold_csv: Path) -> None:
    result = CliRunner().invoke(cli, ["evaluate", str(run_dir), str(gold_csv), "--resamples", "200"])
    assert result.exit_code == 0, result.output
    json_path = run_dir / "evaluation" / "evaluation.json"
    markdown_path = run_dir / "evaluation" / "evaluation.md"
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["roles"]["all_gold"]["n"] == 7
    markdown = markdown_path.read_text(encoding="utf-8")
    assert result.stdout == markdown
    assert f"wrote {json_path}" in result.stderr
    for expected in (
        "## Symbol mentions in the dialogue",
        "| `red_lantern` | 2 | 2 | 1 | 1 | 1 | 0.500 | 0.500 | 0.500 |",
        "| **micro** (all counts) | 5 | 6 | 3 | 3 | 2 | 0.500 | 0.600 | 0.545 |",
        "| `confession` | 1 | 0 | 0 | 0 | 1 | – | 0.000 | 0.000 |",
        "Type-agnostic (a run event of any type matches): TP 3, FP 2, FN 1",
        "| **catalyst** | 1 | 0 | 2 | 0 | 3 |",
        f"| matched pairs | 5 | 0.600 | {7 / 17:.3f} [",
        "- `episode_99`: not in the run; 1 gold unit(s)",
        "- `broken`: `broken-9a9a9a9a` is failed (cannot open broken.mp4: moov atom not found); 1 gold unit(s)",
        "α ≥ 0.800",
        "Krippendorff 2004",
        "Time tolerance ±1 s",
    ):
        assert expected in markdown, expected

    # --json elsewhere: the Markdown goes beside it; the same inputs give the same bytes.
    elsewhere = run_dir.parent / "reports" / "lantern-agreement.json"
    again = CliRunner().invoke(cli, ["evaluate", str(run_dir), str(gold_csv), "--resamples", "200",
                                     "--json", str(elsewhere)])
    assert again.exit_code == 0, again.output
    assert elsewhere.read_bytes() == json_path.read_bytes()
    assert elsewhere.with_suffix(".md").read_text(encoding="utf-8") == markdown


def test_cli_bad_gold_exits_with_input_error(run_dir: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("video,kind,start_seconds,end_seconds,symbol_id\nlantern_vow,mention,1,x,red_lantern\n",
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["evaluate", str(run_dir), str(gold)])
    assert result.exit_code == 3
    assert "row 2, column end_seconds" in result.stderr
    assert not (run_dir / "evaluation").exists()
    not_a_run = CliRunner().invoke(cli, ["evaluate", str(tmp_path), str(gold)])
    assert not_a_run.exit_code == 3 and "run.json" in not_a_run.stderr
