"""`motiflens models list` and `models pull`: which models a config needs, and fetching them into the cache.

Each role resolves its weights the way a run does (visual/weights.py, dialogue/whisper_model.py,
story/text_model.py), with downloads allowed: a model already in the cache costs no request, a missing one
is fetched from the hub and verified (models/pull.py), PyPI-shipped weights are joined or checked in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from motiflens.core.config import Config
from motiflens.core.errors import ConfigError, ModelError
from motiflens.models.cards import ModelCard, find_card
from motiflens.visual.weights import TEST_MODEL


@dataclass(frozen=True)
class Need:
    """A model a config uses: its role, the config key that names it, and its card (None: not a card)."""

    role: str
    name: str
    setting: str
    card: ModelCard | None


def config_needs(config: Config) -> list[Need]:
    """The model cards a run with `config` loads; local files and folders given in the config are not cards."""
    story = config.story
    wanted: list[tuple[str, str, str, bool]] = [
        ("visual", config.visual.model, "visual.model", config.visual.enabled and config.visual.weights is None),
        ("speech", config.asr.model, "asr.model", config.asr.enabled),
        ("text", config.story.text_model, "story.text_model", config.story.enabled and not story.text_model_path),
        ("ocr", "rapidocr-ppocr", "ocr.enabled", config.ocr.enabled),
    ]
    needs = []
    for role, name, setting, used in wanted:
        card = find_card(name)
        if used and not (role == "speech" and card is None):  # asr.model may be a local folder instead
            needs.append(Need(role, name, setting, card))
    return needs


def config_cards(config: Config) -> list[ModelCard]:
    """The cards `models pull` fetches for a config: every model it uses but the random-weights test card."""
    needs = config_needs(config)
    unknown = [f"{need.setting}={need.name}" for need in needs if need.card is None]
    if unknown:
        raise ConfigError(f"no model card for {', '.join(unknown)}; `motiflens models list` shows them")
    return [need.card for need in needs if need.card is not None and need.card.name != TEST_MODEL]


def model_state(card: ModelCard) -> str:
    """available / missing, as `models list` shows it (no network)."""
    if card.name == TEST_MODEL:
        return "random weights (tests only)"
    return "available" if card.available() else "missing"


def _pull_visual(card: ModelCard, config: Config) -> str | None:
    from motiflens.visual.weights import WeightsResolver

    return WeightsResolver(None, allow_download=True, seed=config.seed).resolve(card.name).sha256


def _pull_speech(card: ModelCard, config: Config) -> str | None:
    from motiflens.dialogue.whisper_model import WhisperResolver

    settings = config.asr.model_copy(update={"model": card.name, "allow_download": True})
    return WhisperResolver(settings).resolve().sha256


def _pull_text(card: ModelCard, config: Config) -> str | None:
    from motiflens.story.text_model import resolve_text_model

    settings = config.story.model_copy(update={"text_model": card.name, "text_model_path": None})
    return resolve_text_model(settings).sha256


def _check_installed(card: ModelCard, config: Config) -> str | None:
    """OCR models ship inside their PyPI package: nothing to fetch, only to install."""
    if not card.available():
        raise ModelError(f"model {card.name!r} ships in the PyPI package(s) {', '.join(card.packages)}: "
                         f"pip install {' '.join(card.packages)}")
    return card.sha256


#: card role → how its weights are fetched and verified (a run resolves them the same way).
PULLERS: dict[str, Callable[[ModelCard, Config], str | None]] = {
    "visual": _pull_visual,
    "speech": _pull_speech,
    "text": _pull_text,
    "ocr": _check_installed,
}


@dataclass(frozen=True)
class Pulled:
    card: ModelCard
    fetched: bool  # False: it was already there
    sha256: str | None


def pull(cards: list[ModelCard], config: Config) -> tuple[list[Pulled], list[tuple[ModelCard, ModelError]]]:
    """Fetch and verify each card's weights; the pulled ones and the failures (every card is tried)."""
    done: list[Pulled] = []
    failed: list[tuple[ModelCard, ModelError]] = []
    for card in cards:
        if card.name == TEST_MODEL:
            raise ConfigError(f"model {TEST_MODEL!r} has random weights: there is nothing to pull")
        present = card.available()
        try:
            digest = PULLERS[card.role](card, config)
        except ModelError as error:
            failed.append((card, error))
            continue
        done.append(Pulled(card, fetched=not present and card.available(), sha256=digest))
    return done, failed


def cards_named(names: tuple[str, ...]) -> list[ModelCard]:
    cards = []
    for name in names:
        card = find_card(name)
        if card is None:
            raise ModelError(f"no model card named {name!r}; `motiflens models list` shows them")
        cards.append(card)
    return cards
