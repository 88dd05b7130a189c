"""One namespaced logger; third-party libraries stay quiet unless asked."""

from __future__ import annotations

import json
import logging
import sys

LOGGER_NAME = "motiflens"
_NOISY_LIBRARIES = ("av", "faster_whisper", "open_clip", "PIL", "urllib3", "huggingface_hub", "filelock")


def get_logger(name: str | None = None) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, for log shippers on clusters."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(verbosity: int = 0, json_lines: bool = False, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbosity > 0 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLineFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root = get_logger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
    # FFmpeg's own lines are already part of every MediaError message; printing them too is noise.
    logging.getLogger("libav").setLevel(logging.CRITICAL + 1)
