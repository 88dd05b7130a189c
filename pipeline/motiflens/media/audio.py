"""Extract the audio track once per video: 16 kHz mono float32, streamed into a WAV file."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from motiflens.core.atomic import atomic_path
from motiflens.core.errors import DecodeError
from motiflens.core.log import get_logger
from motiflens.core.records import AudioTrack
from motiflens.media.container import ffmpeg_errors, open_container

log = get_logger("audio")

_WAVE_FORMAT_IEEE_FLOAT = 3
_HEADER_BYTES = 58  # RIFF + fmt (18-byte body, as float WAVs require) + fact + data headers


def _write_header(handle: BinaryIO, sample_rate: int, num_samples: int) -> None:
    data_bytes = num_samples * 4
    handle.write(b"RIFF" + struct.pack("<I", _HEADER_BYTES - 8 + data_bytes) + b"WAVE")
    fmt = struct.pack("<IHHIIHHH", 18, _WAVE_FORMAT_IEEE_FLOAT, 1, sample_rate, sample_rate * 4, 4, 32, 0)
    handle.write(b"fmt " + fmt)
    handle.write(b"fact" + struct.pack("<II", 4, num_samples))
    handle.write(b"data" + struct.pack("<I", data_bytes))


def read_wav_float32(path: Path) -> np.ndarray:
    """Samples of a WAV written by `extract_audio` (memory-mapped: long episodes stay cheap)."""
    return np.memmap(path, dtype="<f4", mode="r", offset=_HEADER_BYTES)


class AudioExtractor:
    """Decodes and resamples with FFmpeg's resampler; no temp copies of the whole track in memory."""

    def __init__(self, sample_rate: int = 16000) -> None:
        self.sample_rate = sample_rate
        self.warnings: list[str] = []

    def extract(self, path: Path, target: Path) -> AudioTrack | None:
        """Write `target`; None when the file has no audio stream."""
        import av

        self.warnings = []
        container = open_container(path)
        with container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate)
            num_samples = 0
            peak = 0.0
            with atomic_path(target) as temp, temp.open("wb") as handle:
                _write_header(handle, self.sample_rate, 0)

                def write(frames: list) -> None:
                    nonlocal num_samples, peak
                    for frame in frames:
                        samples = frame.to_ndarray().reshape(-1).astype("<f4", copy=False)
                        if samples.size:
                            peak = max(peak, float(np.abs(samples).max()))
                        handle.write(samples.tobytes())
                        num_samples += samples.size

                try:
                    with ffmpeg_errors(path, "cannot decode audio of"):
                        for frame in container.decode(stream):
                            write(resampler.resample(frame))
                except DecodeError as exc:
                    if num_samples == 0:
                        raise
                    self.warnings.append(f"audio decoding stopped at {num_samples / self.sample_rate:.2f} s: {exc}")
                write(resampler.resample(None))
                handle.seek(0)
                _write_header(handle, self.sample_rate, num_samples)
        for warning in self.warnings:
            log.warning("%s: %s", path.name, warning)
        return AudioTrack(path=target, sample_rate=self.sample_rate, num_samples=num_samples, peak=peak)
