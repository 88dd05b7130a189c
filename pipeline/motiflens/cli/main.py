"""The `motiflens` command line.

Exit codes: 0 every video ok or skipped; 1 some video failed; 2 bad usage or config; 3 bad input
(nothing found, unreadable manifest); 4 a model cannot be found or verified; 5 the engine broke (a Ray actor
died, the cluster cannot be reached); 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from motiflens import __version__
from motiflens.cli.reports import query, report
from motiflens.cli.support import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_VIDEO_FAILED,
    config_option,
    fail,
    set_option,
)
from motiflens.core.config import dump_yaml, load_config
from motiflens.core.errors import ConfigError, InputError, MediaError, ModelError, MotifLensError

if TYPE_CHECKING:
    from motiflens.run.calibrate import ThresholdFit


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="motiflens")
def cli() -> None:
    """MotifLens: cultural symbols in micro short dramas, on screen and in the story."""


def engine_overrides(engine: str | None, ray_address: str | None) -> list[str]:
    """--engine and --ray-address as the config keys they stand for (applied after --set)."""
    if engine == "local" and ray_address:
        raise ConfigError("--ray-address needs the ray engine, not --engine local")
    settings = []
    if engine or ray_address:
        settings.append(f"engine.name={engine or 'ray'}")
    if ray_address:
        settings.append(f"engine.ray.address={json.dumps(ray_address)}")
    return settings


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@set_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("runs/latest"),
              show_default=True, help="Output folder (run.json, videos/<id>/timeline.json).")
@click.option("--fail-fast", is_flag=True, help="Stop at the first video that fails.")
@click.option("--force", multiple=True, metavar="STAGE",
              help="Redo STAGE and the stages that depend on it, checkpoint or not ('all': every stage).")
@click.option("--shard", "shard_spec", metavar="I/N",
              help="Process only shard I of N (0-based; split by video id), e.g. $SLURM_ARRAY_TASK_ID/8.")
@click.option("--engine", type=click.Choice(["local", "ray"]),
              help="local: this process; ray: Ray Data actor pools (same results). Sets engine.name "
                   "(default: the config's, else local).")
@click.option("--ray-address", metavar="ADDRESS",
              help="Run on an existing Ray cluster ('auto': the one this node joined; or host:port). Sets "
                   "engine.ray.address and implies --engine ray; default: a local Ray instance.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars; warnings and errors only.")
@click.option("--log-json", is_flag=True, help="Log one JSON object per line on stderr.")
@click.option("--verbose", "-v", count=True, help="More logging.")
def run(paths: tuple[Path, ...], config_path: Path | None, overrides: tuple[str, ...], out_dir: Path,
        fail_fast: bool, force: tuple[str, ...], shard_spec: str | None, engine: str | None, ray_address: str | None,
        quiet: bool, log_json: bool, verbose: int) -> None:
    """Analyse videos: PATHS are video files, folders (scanned recursively) or CSV manifests.

    Finished work is kept per stage and per video under OUT: running the same command again redoes only
    what a config change, a new model or a changed file affects, and a killed run resumes where it stopped.
    """
    from motiflens.core.log import configure_logging
    from motiflens.run.discovery import discover, parse_shard, select_shard
    from motiflens.run.progress import RunProgress
    from motiflens.run.runner import FailFast, Runner
    from motiflens.stages import stage_names

    configure_logging(verbose, json_lines=log_json, quiet=quiet)
    try:
        config = load_config(config_path, [*overrides, *engine_overrides(engine, ray_address)])
        sources = discover(paths, config.input)
        if not sources:
            raise InputError(f"no videos found in {', '.join(map(str, paths))} "
                             f"(extensions: {' '.join(config.input.extensions)})")
        shard = parse_shard(shard_spec) if shard_spec else None
        if shard is not None:
            sources = select_shard(sources, *shard)
        with RunProgress(len(sources), enabled=not quiet, stages=tuple(stage_names())) as progress:
            runner = Runner(config, out_dir, config_path=config_path, fail_fast=fail_fast, progress=progress.update,
                            force=force, shard=shard)
            try:
                report = runner.run(sources, paths)
            except FailFast as stop:
                click.secho(str(stop), fg="red", err=True)
                sys.exit(EXIT_VIDEO_FAILED)
    except KeyboardInterrupt:
        click.secho("interrupted; finished videos are kept in run.json", fg="yellow", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except MotifLensError as error:
        fail(error)
        return
    ok, failed, skipped = report.count("ok"), report.count("failed"), report.count("skipped")
    click.echo(f"{len(report.videos)} videos: {ok} ok, {failed} failed, {skipped} skipped → {out_dir / 'run.json'}")
    for video in report.videos:
        if video["status"] != "ok":
            first_line = str(video.get("error", "")).splitlines()[0] if video.get("error") else ""
            click.echo(f"  {video['status']:7} {video['path']}: {first_line}")
    sys.exit(EXIT_VIDEO_FAILED if failed else EXIT_OK)


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="New folder for the merged run (videos are hard-linked, tables rebuilt).")
@click.option("--allow-partial", is_flag=True,
              help="Merge even if shards of the set are missing (the merged run.json says partial: true).")
def merge(run_dirs: tuple[Path, ...], out_dir: Path, allow_partial: bool) -> None:
    """Combine the output folders of shards (motiflens run --shard I/N) into one run with one table set.

    Refuses (exit 3) a set with a shard missing, given twice or from another N, unless --allow-partial.
    """
    from motiflens.run.merge import merge_runs

    try:
        merged = merge_runs(list(run_dirs), out_dir, allow_partial=allow_partial)
    except MotifLensError as error:
        fail(error)
        return
    counts = merged["counts"]
    click.echo(f"{len(merged['videos'])} videos from {len(run_dirs)} runs: {counts['ok']} ok, "
               f"{counts['failed']} failed, {counts['skipped']} skipped → {out_dir / 'run.json'}")
    if merged["partial"]:
        missing = ", ".join(f"{index}/{merged['shards']['count']}" for index in merged["shards"]["missing"])
        click.secho(f"warning: partial corpus, shard {missing} missing (--allow-partial)", fg="yellow", err=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def probe(paths: tuple[Path, ...]) -> None:
    """Print what the probe finds in each video, as JSON lines: every stream, and the video stream decoded."""
    from motiflens.core.records import VideoSource
    from motiflens.media.probe import probe as probe_video
    from motiflens.run.discovery import video_id_for

    failed = False
    for path in paths:
        source = VideoSource(path=path.resolve(), relative_path=path.name, video_id=video_id_for(path.name))
        try:
            click.echo(json.dumps(probe_video(source).to_probe_json(), ensure_ascii=False))
        except MediaError as error:
            failed = True
            click.echo(json.dumps({"path": str(path), "status": error.status, "error": str(error)}, ensure_ascii=False))
    sys.exit(EXIT_VIDEO_FAILED if failed else EXIT_OK)


@cli.group()
def config() -> None:
    """Check and show experiment configs."""


@config.command("validate")
@click.argument("config_file", type=click.Path(path_type=Path, dir_okay=False))
@set_option
def config_validate(config_file: Path, overrides: tuple[str, ...]) -> None:
    """Validate CONFIG_FILE; name every bad key and what it allows."""
    try:
        resolved = load_config(config_file, list(overrides))
    except ConfigError as error:
        fail(error)
        return
    click.echo(f"ok: {config_file} (config hash {resolved.hash()})")


@config.command("show")
@config_option
@set_option
def config_show(config_path: Path | None, overrides: tuple[str, ...]) -> None:
    """Print the resolved config (every default filled in) as YAML."""
    try:
        resolved = load_config(config_path, list(overrides))
    except ConfigError as error:
        fail(error)
        return
    click.echo(f"# config hash {resolved.hash()}")
    click.echo(dump_yaml(resolved), nl=False)


@cli.group()
def models() -> None:
    """The model registry (models/*.yaml)."""


@models.command("list")
@config_option
@set_option
def models_list(config_path: Path | None, overrides: tuple[str, ...]) -> None:
    """List known models, their source, license and whether they are available on this machine (no network),
    then the models the config uses and what it still lacks (`models pull` fetches those)."""
    from motiflens.cli.models import config_needs, model_state
    from motiflens.models.cards import load_model_cards

    try:
        cards = load_model_cards()
        needs = config_needs(load_config(config_path, list(overrides)))
    except (ConfigError, ModelError) as error:
        fail(error)
        return
    for card in cards:
        click.echo(f"{card.name:28} {card.role:7} {card.source:9} {card.license:14} {model_state(card)}")
    click.echo(f"\nthe config ({config_path or 'defaults'}) uses:")
    lacking = []
    for need in needs:
        state = model_state(need.card) if need.card else f"unknown model (no card named {need.name!r})"
        click.echo(f"  {need.role:7} {need.name:28} ({need.setting}) {state}")
        if need.card and state == "missing":
            lacking.append(need.name)
    if lacking:
        click.echo(f"still lacking: {', '.join(lacking)}; fetch them with `motiflens models pull` (or import them)")
    else:
        click.echo("nothing lacking")


@models.command("pull")
@click.argument("names", nargs=-1)
@config_option
@set_option
def models_pull(names: tuple[str, ...], config_path: Path | None, overrides: tuple[str, ...]) -> None:
    """Fetch and verify models into the model cache: NAMES from `models list`, or without names every model the
    config uses. Hub downloads honour HF_ENDPOINT and HF_HOME, are checked against the card's sha256 (else the
    hub's own) and are installed only once verified; HF_HUB_OFFLINE=1 forbids any request. A model already in
    the cache costs no request."""
    from motiflens.cli.models import cards_named, config_cards, pull
    from motiflens.models.cards import cache_dir

    try:
        config = load_config(config_path, list(overrides))
        done, failed = pull(cards_named(names) if names else config_cards(config), config)
    except (ConfigError, ModelError) as error:
        fail(error)
        return
    for pulled in done:
        state = "downloaded" if pulled.fetched else "ready"
        click.echo(f"{pulled.card.name:28} {state:10} sha256 {pulled.sha256 or 'n/a (package files)'}")
    if failed:
        details = "\n".join(f"  {card.name}: {error}" for card, error in failed)
        fail(ModelError(f"{len(failed)} model(s) missing from {cache_dir()}: "
                        f"{', '.join(card.name for card, _ in failed)}\n{details}"))


@models.command("import")
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option("--name", help="Name in the cache; a name from `models list` is what runs look for "
              "(default: the folder name, or the file or archive name without its suffix).")
@click.option("--sha256", "given_sha256", metavar="HEX", type=click.STRING,
              help="Refuse the weights unless their sha256 is HEX (needed for a CLIP card that pins none).")
def models_import(path: Path, name: str | None, given_sha256: str | None) -> None:
    """Copy weights into the model cache for air-gapped machines: PATH is a model folder (a CTranslate2
    Whisper export with model.bin, or a sentence-transformers folder), a .zip/.tar.gz of one, or a single
    weights file. Its sha256 is recorded, and checked against the model card's pin or --sha256."""
    from motiflens.models.cache import default_import_name, import_model
    from motiflens.models.cards import cache_dir, find_card

    name = name or default_import_name(path)
    try:
        card = find_card(name)
        given = given_sha256.strip().lower() if given_sha256 else None
        expected = card.import_sha256(given) if card is not None else given
        manifest = import_model(path, name, cache_dir(), expected_sha256=expected)
    except ModelError as error:
        fail(error)
        return
    click.echo(f"imported {name} → {cache_dir() / name} (sha256 {manifest.sha256})")


@cli.command()
@click.argument("labels", required=False, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--labelstudio", "labelstudio_export", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Fit to a Label Studio JSON export of RUN_DIR/labelstudio/tasks.json instead (needs --run).")
@click.option("--run", "run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="With --labelstudio: the run whose occurrences were judged (their peak scores are used).")
@click.option("--min-per-class", type=click.IntRange(min=1), default=5, show_default=True,
              help="With --labelstudio: fewest present and fewest absent verdicts a symbol needs to be fitted.")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The taxonomy overlay to write (YAML); add it to visual.taxonomy.")
@config_option
@set_option
def calibrate(labels: Path | None, labelstudio_export: Path | None, run_dir: Path | None, min_per_class: int,
              out_path: Path, config_path: Path | None, overrides: tuple[str, ...]) -> None:
    """Fit per-symbol thresholds to labelled frames and write them as a taxonomy overlay.

    LABELS is a CSV with columns image, video, time_seconds, symbol_id, label (0/1): each row judges one
    symbol on one frame, given as an image file or as a video and an instant (paths relative to the CSV).
    Needs the real weights of visual.model (see pipeline/motiflens/visual/calibrate.py for details).

    Or: --labelstudio EXPORT.json --run RUN_DIR fits each symbol's threshold to human present/absent verdicts
    on the run's own visual occurrences (their peak scores; no model is loaded).
    """
    if labelstudio_export is not None or run_dir is not None:
        if labels is not None or labelstudio_export is None or run_dir is None:
            raise click.UsageError("give either LABELS.csv, or --labelstudio EXPORT.json together with --run RUN_DIR")
        _calibrate_labelstudio(labelstudio_export, run_dir, out_path, min_per_class)
        return
    if labels is None:
        raise click.UsageError("give LABELS.csv, or --labelstudio EXPORT.json with --run RUN_DIR")
    from motiflens.core.environment import resolve_device
    from motiflens.core.taxonomy import load_taxonomy, taxonomy_paths
    from motiflens.run.calibrate import (
        FrameSource,
        fit_thresholds,
        overlay_document,
        read_labels,
        score_labelled_frames,
        write_overlay,
    )
    from motiflens.visual.backend import create_backend
    from motiflens.visual.engine import FrameScorer
    from motiflens.visual.prompts import build_prompt_bank
    from motiflens.visual.weights import WeightsResolver

    try:
        config = load_config(config_path, list(overrides))
        settings = config.visual
        taxonomy = load_taxonomy(taxonomy_paths(settings.builtin_taxonomy, settings.taxonomy))
        rows = read_labels(labels, taxonomy)
        weights = WeightsResolver(settings.weights, settings.allow_download, config.seed).resolve(settings.model)
        backend = create_backend(weights, resolve_device(config.device), settings.autocast)
        backend.load()
        try:
            bank = build_prompt_bank(backend, taxonomy, weights.card.id, weights.key, backend.logit_scale,
                                     settings.embedding_cache)
            scorer = FrameScorer(backend, bank, settings.batch_size)
            scores = score_labelled_frames(rows, scorer, FrameSource(config), settings.mask_subtitles)
        finally:
            backend.close()
        fits, unfitted = fit_thresholds(rows, scores, taxonomy)
        if not fits:
            raise InputError(f"{labels}: no symbol has both a positive (1) and a negative (0) row; nothing to fit")
        write_overlay(out_path, overlay_document(fits, labels, weights, taxonomy, len(rows)))
    except MotifLensError as error:
        fail(error)
        return
    _echo_fits(fits)
    for symbol_id in unfitted:
        click.echo(f"{symbol_id:28} not fitted: needs both positive and negative rows")
    click.echo(f"wrote {out_path}; use it with --set 'visual.taxonomy=[{out_path}]'")


def _echo_fits(fits: list[ThresholdFit]) -> None:
    for fit in fits:
        click.echo(f"{fit.symbol_id:28} threshold {fit.threshold:.4f}  F1 {fit.f1:.3f}  "
                   f"(+{fit.positives} / -{fit.negatives})")


def _calibrate_labelstudio(export: Path, run_dir: Path, out_path: Path, min_per_class: int) -> None:
    from motiflens.run.calibrate import calibrate_from_labelstudio

    try:
        fits, left_out, match = calibrate_from_labelstudio(export, run_dir, out_path, min_per_class)
    except MotifLensError as error:
        fail(error)
        return
    _echo_fits(fits)
    for symbol_id, reason in left_out.items():
        click.echo(f"{symbol_id:28} not fitted: {reason}")
    if match.unmatched or match.dialogue_only:
        click.echo(f"ignored {match.unmatched} verdict(s) that match no occurrence of {run_dir} and "
                   f"{match.dialogue_only} on dialogue-only occurrences (no visual score)")
    click.echo(f"wrote {out_path}; use it with --set 'visual.taxonomy=[{out_path}]'")


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument("gold", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--tolerance", type=click.FloatRange(min=0, max=3600), default=1.0, show_default=True,
              metavar="SECONDS", help="A run item matches a gold span it overlaps once the gold span is widened by "
              "this much on both sides.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the JSON report (default RUN_DIR/evaluation/evaluation.json); the Markdown "
              "report goes beside it with the suffix .md.")
@click.option("--resamples", type=click.IntRange(min=100), default=2000, show_default=True,
              help="Bootstrap resamples for the 95% intervals of kappa and alpha.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap (same seed, same CIs).")
def evaluate(run_dir: Path, gold: Path, tolerance: float, json_path: Path | None, resamples: int, seed: int) -> None:
    """Agreement of a run with a researcher's own coding of some of its videos.

    GOLD is a CSV with columns video, kind (mention | event | role | none), start_seconds, end_seconds,
    symbol_id, event_type, role and an optional note; or a Label Studio JSON export of RUN_DIR/labelstudio
    tasks annotated with the role choice. Prints a Markdown report (precision, recall and F1 of mentions and
    events; the role confusion matrix, Cohen's kappa and Krippendorff's alpha with bootstrap intervals) and
    writes it with a JSON twin. Details: pipeline/motiflens/evaluation.py.
    """
    from motiflens.core.atomic import inside
    from motiflens.reports.evaluation import evaluate_run, write_evaluation

    try:
        report = evaluate_run(run_dir, gold, tolerance=tolerance, resamples=resamples, seed=seed)
        target = json_path if json_path is not None else inside(run_dir, "evaluation", "evaluation.json")
        markdown_path, markdown = write_evaluation(report, target)
    except MotifLensError as error:
        fail(error)
        return
    click.echo(markdown, nl=False)
    click.echo(f"wrote {target} and {markdown_path}", err=True)


cli.add_command(query)
cli.add_command(report)


@cli.command("fit-story")
@config_option
@set_option
@click.option("--folds", type=click.IntRange(min=2, max=20), default=5, show_default=True,
              help="Cross-validation folds (held-out figures).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fold split.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the full report (per-type scores, confusion, errors) as JSON here.")
def fit_story(config_path: Path | None, overrides: tuple[str, ...], folds: int, seed: int,
              json_path: Path | None) -> None:
    """Fit the story thresholds on the labelled dev sets (data/eval/) and report held-out figures.

    Event typing: per-type precision, recall and F1 on held-out folds of data/eval/event_lines.yaml. Roles:
    accuracy, Cohen's kappa and Krippendorff's alpha on held-out folds of data/eval/role_scenes.yaml, through
    the real story and align code. Also prints the thresholds fitted on all dev data.
    """
    from motiflens.core.atomic import write_json
    from motiflens.core.environment import resolve_device
    from motiflens.core.taxonomy import load_taxonomy, taxonomy_paths
    from motiflens.story.definitions import load_builtin, load_definitions
    from motiflens.story.devset import load_event_lines, load_role_scenes
    from motiflens.story.fitting import fit_story as fit
    from motiflens.story.fitting import markdown
    from motiflens.story.text_model import TextEncoder, resolve_text_model

    try:
        config = load_config(config_path, list(overrides))
        story = config.story
        custom = story.events.definitions
        definitions = load_definitions(custom, "events") if custom is not None else load_builtin("events")
        taxonomy = load_taxonomy(taxonomy_paths(config.visual.builtin_taxonomy, config.visual.taxonomy))
        encoder = TextEncoder(resolve_text_model(story), resolve_device(config.device), story.batch_size)
        report = fit(definitions, encoder, taxonomy, load_event_lines(story.events.dev_set), load_role_scenes(),
                     story, config.align, folds, seed)
    except MotifLensError as error:
        fail(error)
        return
    if json_path is not None:
        write_json(json_path, report)
    click.echo(markdown(report), nl=False)


def main() -> None:
    cli()
