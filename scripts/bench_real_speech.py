"""How well the dialogue stream hears real voices: WER, CER and language per utterance.

    .venv/bin/python scripts/bench_real_speech.py [--set asr.model=whisper-small ...]

Composes the videos of tests/test_real_speech.py (three real recordings alone; English, then Mandarin
1.6 s after it; English over music; short synthetic Mandarin lines between English ones), runs the
pipeline's ASR stage on each with the model loaded once, and prints one JSON document: per utterance the
languages heard and the word (English) or character (Mandarin) error rate, per case the wall seconds,
and the language accuracy (share of utterances heard in their own language only).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from motiflens.core.config import load_config
from real_speech import listening, real_cases, recordings_problem, score, short_mandarin_lines


@click.command()
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Config override, as for `run`.")
def main(overrides: tuple[str, ...]) -> None:
    why = recordings_problem()
    if why:
        sys.exit(why)
    config = load_config(None, list(overrides))
    utterances, seconds = [], {}
    with listening(config) as listener:
        for case in [*real_cases(), short_mandarin_lines()]:
            began = time.perf_counter()
            work = listener.hear(case)
            seconds[case.name] = round(time.perf_counter() - began, 2)
            utterances += score(case, work.transcript.segments if work.transcript else ())
        models = listener.stage.models()
    report = {
        "models": models,
        "asr": config.asr.model_dump(mode="json"),
        "language_accuracy": round(sum(row["language_correct"] for row in utterances) / len(utterances), 3),
        "utterances": utterances,
        "wall_seconds": seconds,
    }
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
