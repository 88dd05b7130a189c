"""Weights from the Hugging Face hub, fetched into the model cache and verified before they are installed.

Every hub download of every role goes through here: `fetch_hub_file` (one file, e.g. an open_clip checkpoint)
and `fetch_hub_snapshot` (a model folder: a CTranslate2 Whisper export, a sentence-transformers model). Both

  * make no network attempt when HF_HUB_OFFLINE is set (a ModelError names the missing model instead);
  * read HF_ENDPOINT, HF_HOME and HF_HUB_CACHE when called, not when huggingface_hub was imported, so a
    mirror or a stand-in hub chosen at run time is honoured;
  * verify the weights file against the card's pinned sha256, or, for an unpinned card, against the sha256
    the hub itself declares for the file (the ETag of a Git LFS file is its sha256);
  * build the cache folder beside its final place and rename it only once verified, so a refused or
    interrupted download leaves nothing behind.

A file already in the user's hub cache (HF_HOME, e.g. from an earlier open_clip run) is taken from there
without a request when it matches the pin.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from motiflens.core.atomic import sha256_file
from motiflens.core.errors import ModelError
from motiflens.core.log import get_logger
from motiflens.models.cache import ModelManifest, check_sha256, seal, staging_folder
from motiflens.models.cards import ModelCard

log = get_logger("models")

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Seconds to wait for the hub's answer to the first (metadata) request: an unreachable hub fails fast.
METADATA_TIMEOUT_SECONDS = 10.0


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_endpoint() -> str | None:
    """HF_ENDPOINT as set now (huggingface_hub reads it once, at import)."""
    endpoint = os.environ.get("HF_ENDPOINT", "").strip().rstrip("/")
    return endpoint or None


def hub_cache() -> Path:
    """The user's hub cache as huggingface_hub lays it out: HF_HUB_CACHE, else HF_HOME/hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


@dataclass(frozen=True)
class HubFile:
    """One weights file of a hub repo; `filenames` are alternatives, taken in order (safetensors first)."""

    repo: str
    filenames: tuple[str, ...]
    revision: str | None = None


def refuse_offline(card: ModelCard, cache: Path, fixes: str) -> None:
    """No request at all while HF_HUB_OFFLINE is set; otherwise make huggingface_hub agree (it read the
    variable once, at import, possibly before this process was told it may go online)."""
    if hub_offline():
        raise ModelError(
            f"model {card.name!r} ({card.id}) is not in the cache {cache} and HF_HUB_OFFLINE is set, "
            f"so it cannot be downloaded; {fixes}"
        )
    from huggingface_hub import constants

    constants.HF_HUB_OFFLINE = False


def _declared_sha256(etag: str | None) -> str | None:
    """The sha256 the hub declares for a file: the ETag of an LFS file (a git blob's is its sha1)."""
    etag = (etag or "").strip('"').removeprefix("W/").strip('"').lower()
    return etag if _SHA256.fullmatch(etag) else None


def _verify(card: ModelCard, weights: Path, declared: str | None, origin: str) -> str:
    digest = sha256_file(weights)
    if card.sha256 is None and declared is not None and digest != declared:
        raise ModelError(
            f"model {card.name!r}: {weights.name} from {origin} has sha256 {digest}, but the hub declares "
            f"{declared}; the download is corrupt (nothing was installed, run it again)"
        )
    check_sha256(card.name, digest, card.sha256, origin)
    return digest


def _from_user_cache(card: ModelCard, hub: HubFile) -> Path | None:
    """A copy of the file in the user's hub cache that matches the card's pin (none is trusted without one)."""
    if card.sha256 is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    for filename in hub.filenames:
        found = try_to_load_from_cache(hub.repo, filename, cache_dir=hub_cache(), revision=hub.revision)
        if isinstance(found, str) and Path(found).is_file() and sha256_file(Path(found)) == card.sha256:
            return Path(found)
    return None


def fetch_hub_file(card: ModelCard, hub: HubFile, target: Path, fixes: str) -> ModelManifest:
    """Install one hub file as the cache folder `target` (see the module docstring); its manifest."""
    local = _from_user_cache(card, hub)
    if local is None:
        refuse_offline(card, target.parent, fixes)
    origin = f"{hub_endpoint() or 'https://huggingface.co'} ({hub.repo})"
    with staging_folder(target) as temp:
        if local is not None:
            log.info("model %s: taking %s from the hub cache %s", card.name, local.name, hub_cache())
            weights, declared, origin = temp / local.name, None, f"the hub cache {hub_cache()}"
            shutil.copyfile(local, weights)
        else:
            weights, declared = _download_file(card, hub, temp, origin, fixes)
        digest = _verify(card, weights, declared, origin)
        manifest = seal(temp, ModelManifest.describe(card.name, card.id, "hub", weights, digest), card.sha256, origin)
    return manifest


def _download_file(card: ModelCard, hub: HubFile, temp: Path, origin: str, fixes: str) -> tuple[Path, str | None]:
    """The first of `hub.filenames` the repo has, copied into `temp`, with the sha256 the hub declares."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.errors import RemoteEntryNotFoundError

    log.info("downloading model %s from %s", card.name, origin)
    for filename in hub.filenames:
        url = hf_hub_url(hub.repo, filename, revision=hub.revision, endpoint=hub_endpoint())
        try:
            # The metadata request does not retry: an unreachable hub fails here at once (the download
            # itself retries with backoff for ~25 s), and an absent file is told apart from a network error.
            metadata = get_hf_file_metadata(url, timeout=METADATA_TIMEOUT_SECONDS, endpoint=hub_endpoint())
            path = hf_hub_download(
                hub.repo,
                filename,
                revision=hub.revision,
                cache_dir=temp / ".hub",
                endpoint=hub_endpoint(),
                etag_timeout=METADATA_TIMEOUT_SECONDS,
            )
        except RemoteEntryNotFoundError:
            continue
        except Exception as exc:  # network, auth, missing repo: all mean "not available"
            raise ModelError(f"cannot download model {card.name!r} from {origin}: {exc}\n{fixes}") from exc
        weights = temp / filename
        shutil.copyfile(path, weights)  # the hub cache holds a link into its blob store
        shutil.rmtree(temp / ".hub", ignore_errors=True)
        return weights, _declared_sha256(metadata.etag)
    raise ModelError(f"model {card.name!r}: {origin} has none of {', '.join(hub.filenames)}\n{fixes}")


def fetch_hub_snapshot(
    card: ModelCard,
    target: Path,
    fixes: str,
    weights_of: Callable[[Path], Path | None],
    allow: Sequence[str] | None = None,
    ignore: Callable[[set[str]], Sequence[str]] | None = None,
) -> ModelManifest:
    """Install a hub model folder as the cache folder `target`; `weights_of` finds its weights file (None: the
    repo is not the kind of model the card says), whose sha256 is verified and recorded. `ignore` chooses the
    patterns to leave out from the repo's file names."""
    refuse_offline(card, target.parent, fixes)
    from huggingface_hub import HfApi, snapshot_download

    origin = f"{hub_endpoint() or 'https://huggingface.co'} ({card.id})"
    try:
        # One request without retries first: an unreachable hub fails here at once (the file listing and the
        # downloads of snapshot_download retry with backoff for ~25 s).
        info = HfApi(endpoint=hub_endpoint()).model_info(card.id, revision=card.revision)
    except Exception as exc:  # network, auth, missing repo: all mean "not available"
        raise ModelError(f"cannot download model {card.name!r}: {origin} is unreachable ({exc})\n{fixes}") from exc
    ignored = list(ignore({sibling.rfilename for sibling in info.siblings or ()})) if ignore else None
    log.info("downloading model %s from %s", card.name, origin)
    with staging_folder(target) as temp:
        try:
            snapshot_download(
                card.id,
                revision=card.revision,
                local_dir=temp,
                allow_patterns=list(allow) if allow else None,
                ignore_patterns=ignored,
                endpoint=hub_endpoint(),
                etag_timeout=METADATA_TIMEOUT_SECONDS,
            )
        except Exception as exc:  # network, auth, missing repo: all mean "not available"
            raise ModelError(f"cannot download model {card.name!r} from {origin}: {exc}\n{fixes}") from exc
        weights = weights_of(temp)
        if weights is None:
            raise ModelError(f"hub repo {card.id} is not the kind of model card {card.name!r} describes")
        declared = _snapshot_etag(temp, weights)
        shutil.rmtree(temp / ".cache", ignore_errors=True)
        digest = _verify(card, weights, declared, origin)
        manifest = seal(temp, ModelManifest.describe(card.name, card.id, "hub", weights, digest), card.sha256, origin)
    return manifest


def _snapshot_etag(folder: Path, weights: Path) -> str | None:
    """The sha256 the hub declared for `weights`, from the download record huggingface_hub keeps in a local_dir
    (.cache/huggingface/download/NAME.metadata: commit, etag, time)."""
    record = folder / ".cache" / "huggingface" / "download" / f"{weights.relative_to(folder).as_posix()}.metadata"
    try:
        lines = record.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return _declared_sha256(lines[1]) if len(lines) > 1 else None
