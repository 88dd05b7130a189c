"""Generate the bundled sample micro-drama clips in ``data/samples/`` and their ground truth.

The committed MP4 files and ``samples.json`` are what users and tests use; this script only
documents how they were made and lets a maintainer regenerate them.

System requirements for REGENERATING the samples (nothing else in MotifLens needs them):

    apt-get update && apt-get install -y espeak-ng fonts-wqy-zenhei

* ``espeak-ng`` (tested with 1.51) speaks the dialogue: voice ``en-us+m1`` for English and
  ``cmn-latn-pinyin+f3`` fed tone-numbered pinyin for Mandarin. Debian's small ``cmn`` dictionary
  lacks many of the characters used here and reads them as English-spelled pinyin with digits, so
  the pinyin voice is the one Whisper recognises as Chinese.
* A CJK TrueType font for the burned-in subtitles: WenQuanYi Zen Hei (``fonts-wqy-zenhei``) or
  Noto Sans CJK (``fonts-noto-cjk``); ``--font`` overrides.

Python side: numpy, Pillow and imageio-ffmpeg (its bundled ffmpeg binary is used, never a system one).

    python scripts/make_samples.py --out data/samples
    python scripts/make_samples.py --out data/samples --only qipao_zh_only   # encode one clip only

Frames are drawn with Pillow/numpy from seeded RNGs and piped as raw RGB into ffmpeg (H.264, yuv420p,
faststart) together with the speech track (AAC mono). Subtitle and shot timings come from the
generated audio, and everything is written to ``samples.json``. With ``--only`` the other clips are not
re-encoded: their existing entries in ``samples.json`` are kept (media fields untouched) and only their
coding (``refers_to``, ``note``, ``roles``) is refreshed from the specs below; their files must exist and
match the recorded ``size_bytes``.

``samples.json`` is the script and the human coding of each clip: per line what it names (``names``),
what it refers back to by anaphora (``refers_to``: 它/这/it/this to a symbol named one or two lines
earlier) and its plot beat (``beat``); per clip the ``roles`` of its symbols (decorative / referenced /
catalyst, with the ``link`` of a catalyst: same_line, anaphora, semantic, visual_focus). ``gold.csv`` is
the same coding flattened to one row per mention, event and role, written beside it.

The six clips, and what a naive rule would get wrong (the *failing* cases are on purpose):

* lantern_vow (en): lantern named, then "I swear I will bring it home..." -> catalyst by anaphora.
* jade_teapot (zh): teapot named, then "你竟然把它卖给了外人！" -> betrayal, catalyst by anaphora.
* dumplings_mixed (en + zh): the reunion line names 饺子 -> catalyst, same_line.
* calligraphy_wedding (en): calligraphy named in passing 3 s before an unrelated revelation about
  the engagement -> referenced (a time-window rule calls it catalyst); a red lantern on screen during
  the beat, never named -> decorative (an overlap rule calls it catalyst).
* paper_cutting_promise (zh): 剪纸 named, then a vow whose only link is 它 -> catalyst by anaphora; an
  apology naming 月饼 ("原谅我吧") is refused ("我不会原谅你。") -> no reconciliation, mooncake referenced
  (a keyword rule on 原谅/forgive finds two reconciliations and makes the mooncake a catalyst).
* qipao_zh_only (zh, Chinese subtitles only): the revelation line names 旗袍 -> catalyst, same_line;
  there is no English subtitle row to lean on.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT, FPS = 540, 960, 25
TTS_RATE = 22050  # espeak-ng's native output rate; ffmpeg resamples once, at encode time
AUDIO_RATE = 16000  # what Whisper consumes anyway; keeps the files small
LEAD_IN = 0.5  # silence before the first line, so VAD and word timestamps have an onset
MIN_DURATION = 9.2
TAIL = 1.2  # silence after the last line before the clip ends

# Fixed subtitle band, 76-88 % of the height, as burned-in subtitles sit in real vertical dramas.
BAND_TOP, BAND_BOTTOM = round(0.76 * HEIGHT), round(0.88 * HEIGHT)
ZH_SIZES = (32, 30, 28)  # largest that fits the width wins; OCR needs >= ~28 px glyphs
EN_SIZE = 26
TEXT_MAX_WIDTH = WIDTH - 40
STROKE = 3

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)

GENERATOR_COMMAND = "python scripts/make_samples.py"

Color = tuple[int, int, int]
Box = tuple[int, int, int, int]


class SampleError(RuntimeError):
    """A missing system tool or font, or a failed encode."""


# --------------------------------------------------------------------------------------------------
# Script


@dataclass(frozen=True)
class Voice:
    name: str
    speed: int  # espeak-ng -s, words per minute
    pitch: int  # espeak-ng -p, 0-99


# Chosen by transcribing candidates with Whisper base (int8): these gave word-perfect English and
# Chinese-detected Mandarin with the key nouns (玉壶 is heard as the homophone 玉湖/玉虎; 饺子 is exact).
EN_VOICE = Voice("en-us+m1", 140, 50)
ZH_VOICE = Voice("cmn-latn-pinyin+f3", 120, 40)
ZH_VOICE_MOM = Voice("cmn-latn-pinyin+f3", 110, 35)
# Faster Mandarin for the four-line clips, so they stay under 14 s (two speakers: a higher and a lower voice).
ZH_VOICE_QUICK = Voice("cmn-latn-pinyin+f3", 150, 40)
ZH_VOICE_QUICK_LOW = Voice("cmn-latn-pinyin+f3", 145, 28)


@dataclass(frozen=True)
class Line:
    language: str  # "en" | "zh"
    text: str  # the spoken script, in its own writing system
    subtitle_zh: str
    subtitle_en: str | None  # None: a Chinese-only subtitle (no English row)
    voice: Voice
    tts_input: str = ""  # what espeak-ng is fed when it differs from ``text`` (pinyin)
    gap_before: float = 0.6
    # What the line was written to carry (ground truth for the story stream): the taxonomy symbols it
    # names, the symbols it refers back to by anaphora (它/这/那/it/this/that pointing at a symbol named
    # one or two lines earlier) and the plot-event type of its beat (DESIGN.md section 3), if any.
    names: tuple[str, ...] = ()
    beat: str | None = None
    refers_to: tuple[str, ...] = ()
    note: str | None = None  # why the coding is what it is, where a coder could hesitate


@dataclass(frozen=True)
class Prop:
    symbol_id: str
    draw: Callable[[ImageDraw.ImageDraw, float], Box]  # (draw, t) -> box actually drawn


@dataclass(frozen=True)
class ShotSpec:
    painter: Callable[[np.random.Generator], Painter]
    # Where the shot ends: (line index, "start" | "end", offset seconds); None = end of clip.
    until: tuple[int, str, float] | None
    props: tuple[Prop, ...] = ()


ROLES = ("decorative", "referenced", "catalyst")
LINKS = ("same_line", "anaphora", "semantic", "visual_focus")
EVENT_TYPES = ("confrontation", "humiliation", "reversal", "revelation", "vow", "betrayal", "rescue",
               "confession", "reconciliation", "loss")


@dataclass(frozen=True)
class Role:
    """The human coding of one symbol in a clip (DESIGN.md sections 1 and 3).

    catalyst: linked to a plot event because the event's line names the symbol (``same_line``), refers
    back to it (``anaphora``), is about it without naming it (``semantic``) or the symbol fills the frame
    during it (``visual_focus``); nearness in time alone is no link. referenced: named, not linked.
    decorative: shown, never named. Times are filled in from the clip: one entry per prop shot for a
    symbol on screen (origin ``visual``), else the span of the lines that name it (origin ``dialogue``).
    """

    symbol_id: str
    role: str
    link: str | None = None  # catalysts only
    event_type: str | None = None  # the linked event's type (catalysts only)
    note: str | None = None


@dataclass(frozen=True)
class ClipSpec:
    file: str
    seed: int
    lines: tuple[Line, ...]
    shots: tuple[ShotSpec, ...]
    roles: tuple[Role, ...] = ()


# --------------------------------------------------------------------------------------------------
# Scenery. Each painter owns a static background bigger than the frame and pans across it slowly,
# plus one or two moving shapes: frames inside a shot differ a little (as real footage does) while
# different shots differ in colour layout so a cut detector sees clean hard cuts and nothing else.


def vertical_gradient(w: int, h: int, top: Color, bottom: Color) -> np.ndarray:
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    a = np.array(top, np.float32)[None, None, :]
    b = np.array(bottom, np.float32)[None, None, :]
    return np.broadcast_to(a + (b - a) * ramp, (h, w, 3)).copy()


def add_grain(img: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    # Static film grain baked into the background (not per frame): gives texture for the pan to
    # move without making every frame expensive to encode.
    return img + rng.normal(0.0, amount, img.shape[:2])[:, :, None].astype(np.float32)


def to_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


class Painter:
    """A background of size (WIDTH + pan_x, HEIGHT + pan_y) panned over the shot, plus motion."""

    pan = (0.0, 0.0)  # pixels per second

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.canvas = self.build()

    def build(self) -> Image.Image:
        raise NotImplementedError

    def animate(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        """Moving elements; default: none."""

    def frame(self, t: float) -> Image.Image:
        dx, dy = int(self.pan[0] * t), int(self.pan[1] * t)
        img = self.canvas.crop((dx, dy, dx + WIDTH, dy + HEIGHT))
        self.animate(ImageDraw.Draw(img), t)
        return img


def person(draw: ImageDraw.ImageDraw, x: float, y: float, scale: float, fill: Color) -> None:
    """A plain silhouette: head + shoulders, so scenes read as drama without adding symbols."""
    r = 34 * scale
    draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    draw.rounded_rectangle((x - 80 * scale, y + r + 6 * scale, x + 80 * scale, y + 330 * scale),
                           radius=int(60 * scale), fill=fill)


class WarmInterior(Painter):
    """Burgundy wall, wooden floor, a lattice window; someone sways in the foreground."""

    pan = (6.0, 0.0)

    def build(self) -> Image.Image:
        w, h = WIDTH + 80, HEIGHT
        arr = vertical_gradient(w, h, (120, 28, 36), (70, 16, 22))
        arr[int(h * 0.62):] = vertical_gradient(w, h - int(h * 0.62), (110, 70, 40), (60, 36, 20))
        img = to_image(add_grain(arr, self.rng, 2.5))
        d = ImageDraw.Draw(img)
        x0, y0 = 330, 150
        d.rectangle((x0, y0, x0 + 190, y0 + 260), fill=(235, 205, 150), outline=(60, 30, 10), width=10)
        for i in range(1, 4):  # lattice bars
            d.line((x0 + i * 190 / 4, y0, x0 + i * 190 / 4, y0 + 260), fill=(60, 30, 10), width=5)
            d.line((x0, y0 + i * 260 / 4, x0 + 190, y0 + i * 260 / 4), fill=(60, 30, 10), width=5)
        return img

    def animate(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        person(draw, 150 + 6 * math.sin(t * 1.3), 470, 1.0, (30, 10, 12))


class NightStreet(Painter):
    """Navy sky, dark buildings with lit windows, a drifting moon."""

    pan = (0.0, 5.0)

    def build(self) -> Image.Image:
        w, h = WIDTH, HEIGHT + 60
        img = to_image(add_grain(vertical_gradient(w, h, (12, 20, 60), (30, 45, 95)), self.rng, 2.0))
        d = ImageDraw.Draw(img)
        x = -10
        while x < w:
            bw = int(self.rng.integers(70, 140))
            top = int(self.rng.integers(330, 560))
            d.rectangle((x, top, x + bw, h), fill=(18, 18, 30))
            for wy in range(top + 20, h - 40, 46):
                for wx in range(x + 12, x + bw - 24, 32):
                    if self.rng.random() < 0.45:
                        d.rectangle((wx, wy, wx + 16, wy + 22), fill=(250, 215, 120))
            x += bw + int(self.rng.integers(4, 20))
        return img

    def animate(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        cx, cy = 400 - 5 * t, 150 + 2 * t
        draw.ellipse((cx - 45, cy - 45, cx + 45, cy + 45), fill=(245, 240, 215))


class TealCourtyard(Painter):
    """Teal wall with a round moon gate onto a pale garden; leaves drift across."""

    pan = (-5.0, 0.0)

    def build(self) -> Image.Image:
        w, h = WIDTH + 80, HEIGHT
        arr = vertical_gradient(w, h, (40, 120, 115), (20, 80, 78))
        arr[int(h * 0.70):] = vertical_gradient(w, h - int(h * 0.70), (150, 150, 140), (100, 100, 95))
        img = to_image(add_grain(arr, self.rng, 2.5))
        d = ImageDraw.Draw(img)
        d.ellipse((120, 180, 500, 560), fill=(200, 225, 190), outline=(235, 235, 225), width=16)
        d.rectangle((240, 430, 330, 560), fill=(90, 140, 80))
        return img

    def animate(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        for i in range(3):
            x = (60 + 160 * i + 22 * t) % WIDTH
            y = 120 + 90 * i + 8 * math.sin(t + i)
            draw.ellipse((x, y, x + 22, y + 12), fill=(230, 190, 70))


class Tabletop(Painter):
    """Plain wall over a wooden table: the stage for a prop. Colours vary per use."""

    pan = (0.0, 4.0)
    wall: tuple[Color, Color] = ((200, 190, 170), (160, 150, 130))
    table: tuple[Color, Color] = ((120, 72, 40), (70, 40, 20))
    table_top = 0.55

    def build(self) -> Image.Image:
        w, h = WIDTH, HEIGHT + 60
        cut = int(HEIGHT * self.table_top)
        arr = vertical_gradient(w, h, *self.wall)
        arr[cut:] = vertical_gradient(w, h - cut, *self.table)
        img = to_image(add_grain(arr, self.rng, 2.5))
        d = ImageDraw.Draw(img)
        for y in range(cut + 30, h, 70):  # wood grain
            d.line((0, y, w, y + 8), fill=tuple(int(c * 0.8) for c in self.table[0]), width=3)
        return img

    def frame(self, t: float) -> Image.Image:
        # The table stays put so props keep a fixed box; only the wall's light drifts (see animate).
        img = self.canvas.crop((0, 0, WIDTH, HEIGHT))
        self.animate(ImageDraw.Draw(img), t)
        return img

    def animate(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        # A soft patch of light sliding across the wall.
        x = 40 + 18 * t
        draw.ellipse((x, 60, x + 120, 180), fill=tuple(min(255, c + 18) for c in self.wall[0]))


class IvoryTabletop(Tabletop):
    wall = ((225, 215, 190), (190, 175, 150))
    table = ((110, 60, 35), (60, 30, 15))


class SlateTabletop(Tabletop):
    wall = ((70, 78, 92), (45, 50, 62))
    table = ((60, 45, 40), (30, 22, 20))
    table_top = 0.58


class RedDinnerTable(Tabletop):
    wall = ((175, 40, 35), (120, 25, 25))
    table = ((95, 55, 30), (55, 30, 15))
    table_top = 0.50


class GreyStation(Painter):
    """Cold grey platform with a train passing behind, for the homecoming shot."""

    pan = (0.0, 0.0)

    def build(self) -> Image.Image:
        arr = vertical_gradient(WIDTH, HEIGHT, (150, 160, 170), (95, 100, 110))
        arr[int(HEIGHT * 0.66):] = (70, 72, 78)
        img = to_image(add_grain(arr, self.rng, 2.0))
        d = ImageDraw.Draw(img)
        d.rectangle((0, int(HEIGHT * 0.66), WIDTH, int(HEIGHT * 0.66) + 14), fill=(230, 200, 40))
        return img

    def animate(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        x = -200 + 40 * t  # the train slides slowly to the right
        draw.rectangle((x, 330, x + 900, 600), fill=(235, 235, 240))
        for i in range(8):
            wx = x + 30 + i * 110
            draw.rectangle((wx, 370, wx + 80, 450), fill=(60, 80, 110))
        person(draw, 380, 470, 0.9, (35, 35, 45))


class PurpleCloseup(Painter):
    """Dark violet vignette with a close silhouette: the confrontation / emotional shot."""

    pan = (0.0, 0.0)

    def build(self) -> Image.Image:
        yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        r = np.hypot((xx - WIDTH / 2) / WIDTH, (yy - HEIGHT * 0.4) / HEIGHT)
        base = np.array((95, 40, 120), np.float32)
        arr = base[None, None, :] * np.clip(1.3 - 1.6 * r, 0.15, 1.0)[:, :, None]
        return to_image(add_grain(arr, self.rng, 2.0))

    def animate(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        person(draw, WIDTH / 2 + 5 * math.sin(t * 0.9), 330 + 3 * math.sin(t * 1.7), 1.5, (25, 10, 35))


# --------------------------------------------------------------------------------------------------
# Props. Each draws itself at time t and returns the box it covered; samples.json stores the union
# over the shot, which is what a detector's box should overlap.


def draw_lantern(cx: float, cy: float, size: float, sway: float) -> Callable[[ImageDraw.ImageDraw, float], Box]:
    def draw(d: ImageDraw.ImageDraw, t: float) -> Box:
        x = cx + sway * math.sin(t * 1.1)
        w, h = 150 * size, 170 * size
        gold, red, dark = (230, 180, 50), (215, 25, 25), (150, 10, 15)
        top = cy - h / 2
        d.line((x, top - 70 * size, x, top), fill=(40, 30, 20), width=max(2, int(4 * size)))
        d.rectangle((x - w * 0.28, top - 16 * size, x + w * 0.28, top + 6 * size), fill=gold)
        d.ellipse((x - w / 2, top, x + w / 2, top + h), fill=red)
        for k in (0.18, 0.34):  # ribs give the paper-lantern look
            d.arc((x - w * k, top, x + w * k, top + h), 90, 270, fill=dark, width=max(2, int(4 * size)))
            d.arc((x - w * k, top, x + w * k, top + h), 270, 90, fill=dark, width=max(2, int(4 * size)))
        d.line((x, top, x, top + h), fill=dark, width=max(2, int(4 * size)))
        d.rectangle((x - w * 0.28, top + h - 6 * size, x + w * 0.28, top + h + 16 * size), fill=gold)
        tassel_bottom = top + h + 16 * size + 70 * size
        for k in range(-3, 4):
            d.line((x + k * 5 * size, top + h + 16 * size, x + k * 7 * size, tassel_bottom),
                   fill=(200, 20, 20), width=max(2, int(3 * size)))
        return (round(x - w / 2), round(top - 70 * size), round(x + w / 2), round(tassel_bottom))

    return draw


def draw_teapot(cx: float, cy: float, size: float) -> Callable[[ImageDraw.ImageDraw, float], Box]:
    def draw(d: ImageDraw.ImageDraw, t: float) -> Box:
        jade, light, dark = (60, 165, 110), (140, 215, 170), (25, 100, 65)
        bw, bh = 220 * size, 160 * size
        x0, y0 = cx - bw / 2, cy - bh / 2
        # spout: a tapered spout rising to the right
        d.polygon([(cx + bw * 0.38, cy - 10 * size), (cx + bw * 0.38, cy + 35 * size),
                   (cx + bw * 0.78, cy - 60 * size), (cx + bw * 0.72, cy - 72 * size)], fill=jade)
        # handle: a thick ring on the left
        d.ellipse((x0 - 60 * size, cy - 55 * size, x0 + 40 * size, cy + 45 * size), outline=dark,
                  width=max(4, int(16 * size)))
        d.ellipse((x0, y0, x0 + bw, y0 + bh), fill=jade)
        d.ellipse((x0 + bw * 0.2, y0 + bh * 0.15, x0 + bw * 0.45, y0 + bh * 0.4), fill=light)  # glaze shine
        d.ellipse((cx - 60 * size, y0 - 14 * size, cx + 60 * size, y0 + 16 * size), fill=dark)  # lid
        d.ellipse((cx - 14 * size, y0 - 34 * size, cx + 14 * size, y0 - 8 * size), fill=jade)  # knob
        d.rectangle((cx - 55 * size, y0 + bh - 6 * size, cx + 55 * size, y0 + bh + 10 * size), fill=dark)
        return (round(x0 - 60 * size), round(y0 - 34 * size), round(cx + bw * 0.78), round(y0 + bh + 10 * size))

    return draw


def draw_dumplings(cx: float, cy: float, size: float) -> Callable[[ImageDraw.ImageDraw, float], Box]:
    # Fixed layout of crescents on the plate: (dx, dy) in plate units.
    spots = ((-0.45, -0.12), (-0.05, -0.2), (0.35, -0.12), (-0.3, 0.12), (0.12, 0.12), (0.48, 0.1))

    def draw(d: ImageDraw.ImageDraw, t: float) -> Box:
        pw, ph = 400 * size, 170 * size
        d.ellipse((cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2), fill=(235, 240, 245),
                  outline=(60, 90, 160), width=max(3, int(8 * size)))  # blue-rimmed porcelain plate
        dw, dh = 100 * size, 70 * size
        for sx, sy in spots:
            x, y = cx + sx * pw * 0.8, cy + sy * ph
            d.chord((x - dw / 2, y - dh / 2, x + dw / 2, y + dh), 180, 360, fill=(250, 248, 235),
                    outline=(200, 195, 175), width=2)
            for k in range(-2, 3):  # pleats: small curved folds (straight strokes OCR as "1111")
                px = x + k * dw * 0.14
                py = y - dh / 2 + 8 * size + abs(k) * 4 * size
                d.arc((px - 5 * size, py, px + 5 * size, py + 12 * size), 200, 340, fill=(205, 200, 180),
                      width=2)
        top = cy - ph / 2
        # Steam: soft puffs drifting up give the shot its gentle motion. Puffs rather than curved
        # strokes, which OCR reads as "(((".
        for i in range(3):
            for j in range(3):
                sx = cx - 80 * size + i * 80 * size + 6 * math.sin(t * 2 + i + j)
                sy = top - 12 * size - j * 16 * size - (t * 10 % 16) * size
                r = (14 + 4 * j) * size
                d.ellipse((sx - r, sy - r * 0.7, sx + r, sy + r * 0.7), fill=(236, 232, 228))
        steam_top = top - 12 * size - 2 * 16 * size - 16 * size - 22 * size * 0.7
        return (round(cx - pw / 2), math.floor(steam_top), round(cx + pw / 2), round(cy + ph / 2))

    return draw


def _petal(cx: float, cy: float, angle: float, r0: float, r1: float, half_width: float) -> list[tuple[float, float]]:
    """A pointed petal (lozenge) from radius r0 to r1 along ``angle``: the cut-out shape of a paper-cut."""
    ux, uy = math.cos(angle), math.sin(angle)
    mid = (r0 + r1) / 2
    return [(cx + ux * r0, cy + uy * r0), (cx + ux * mid - uy * half_width, cy + uy * mid + ux * half_width),
            (cx + ux * r1, cy + uy * r1), (cx + ux * mid + uy * half_width, cy + uy * mid - ux * half_width)]


def draw_paper_cut(cx: float, cy: float, size: float) -> Callable[[ImageDraw.ImageDraw, float], Box]:
    """A round red window paper-cut (窗花) pasted on a pale window pane in a wooden frame.

    Cut-outs are petals and dots in the pane colour, in 8-fold symmetry; no straight strokes, which OCR
    would read as characters.
    """

    def draw(d: ImageDraw.ImageDraw, t: float) -> Box:
        pane, frame_c, red = (238, 230, 208), (92, 52, 24), (200, 24, 30)
        half = 210 * size
        d.rectangle((cx - half, cy - half, cx + half, cy + half), fill=pane, outline=frame_c,
                    width=max(6, int(16 * size)))
        r = 175 * size
        # Scalloped rim: a ring of small discs round the main disc.
        for k in range(24):
            a = 2 * math.pi * k / 24
            x, y = cx + r * math.cos(a), cy + r * math.sin(a)
            d.ellipse((x - 16 * size, y - 16 * size, x + 16 * size, y + 16 * size), fill=red)
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=red)
        for k in range(8):  # outer ring of petals, then an inner ring offset by half a step
            a = 2 * math.pi * k / 8
            d.polygon(_petal(cx, cy, a, 95 * size, 160 * size, 20 * size), fill=pane)
            d.polygon(_petal(cx, cy, a + math.pi / 8, 40 * size, 100 * size, 14 * size), fill=pane)
            x, y = cx + 130 * size * math.cos(a + math.pi / 8), cy + 130 * size * math.sin(a + math.pi / 8)
            d.ellipse((x - 9 * size, y - 9 * size, x + 9 * size, y + 9 * size), fill=pane)
        d.ellipse((cx - 24 * size, cy - 24 * size, cx + 24 * size, cy + 24 * size), fill=pane)
        d.ellipse((cx - 11 * size, cy - 11 * size, cx + 11 * size, cy + 11 * size), fill=red)
        return (round(cx - half), round(cy - half), round(cx + half), round(cy + half))

    return draw


def draw_qipao(cx: float, top: float, size: float, sway: float) -> Callable[[ImageDraw.ImageDraw, float], Box]:
    """A red qipao on a hanger: stand-up collar, cap sleeves, fitted waist, side slit, gold piping and
    frog buttons along the diagonal placket, a scatter of plum blossoms."""
    blossoms = ((-0.45, 0.42), (0.3, 0.5), (-0.1, 0.62), (0.45, 0.72), (-0.5, 0.8), (0.1, 0.88), (0.35, 0.3))

    def draw(d: ImageDraw.ImageDraw, t: float) -> Box:
        s = size
        x = cx + sway * math.sin(t * 0.8)
        red, gold, dark, pink = (170, 18, 40), (232, 188, 70), (110, 10, 25), (250, 190, 200)
        hanger = (80, 55, 35)
        hook_top = top - 75 * s
        d.arc((x - 14 * s, hook_top, x + 14 * s, hook_top + 28 * s), 180, 20, fill=hanger, width=max(3, int(5 * s)))
        d.line((x, hook_top + 14 * s, x, top - 35 * s), fill=hanger, width=max(3, int(5 * s)))
        d.polygon([(x, top - 38 * s), (x - 120 * s, top + 10 * s), (x + 120 * s, top + 10 * s)], outline=hanger,
                  width=max(3, int(6 * s)))
        body = [(-30, 20), (-100, 45), (-150, 115), (-118, 150), (-88, 128), (-70, 290), (-102, 390), (-96, 580),
                (96, 580), (102, 390), (70, 290), (88, 128), (118, 150), (150, 115), (100, 45), (30, 20)]
        pts = [(x + px * s, top + py * s) for px, py in body]
        d.polygon(pts, fill=red, outline=gold, width=max(2, int(4 * s)))
        d.rectangle((x - 30 * s, top - 6 * s, x + 30 * s, top + 26 * s), fill=red, outline=gold,
                    width=max(2, int(4 * s)))  # stand-up collar
        d.line((x - 98 * s, top + 575 * s, x - 90 * s, top + 455 * s), fill=dark, width=max(3, int(6 * s)))  # slit
        for bx, by in blossoms:  # five-petal plum blossoms
            px, py = x + bx * 150 * s, top + by * 580 * s
            for k in range(5):
                a = 2 * math.pi * k / 5 - math.pi / 2
                qx, qy = px + 9 * s * math.cos(a), py + 9 * s * math.sin(a)
                d.ellipse((qx - 6 * s, qy - 6 * s, qx + 6 * s, qy + 6 * s), fill=pink)
            d.ellipse((px - 3 * s, py - 3 * s, px + 3 * s, py + 3 * s), fill=gold)
        # Diagonal placket from the collar to the right armpit, piped in gold, with round frog buttons.
        d.arc((x - 10 * s, top - 60 * s, x + 170 * s, top + 130 * s), 110, 175, fill=gold, width=max(2, int(5 * s)))
        for fx, fy in ((0, 24), (40, 58), (75, 90), (88, 128)):
            bx, by = x + fx * s, top + fy * s
            d.ellipse((bx - 8 * s, by - 8 * s, bx + 8 * s, by + 8 * s), fill=gold)
            d.ellipse((bx + 6 * s, by - 5 * s, bx + 22 * s, by + 5 * s), outline=gold, width=max(2, int(3 * s)))
        xs = [p[0] for p in pts]
        return (math.floor(min(xs)), math.floor(hook_top), math.ceil(max(xs)), math.ceil(top + 580 * s))

    return draw


# --------------------------------------------------------------------------------------------------
# The clips. The first three are the originals (their media must not change); the last three add
# the hard cases: a symbol named near an unrelated beat, a decorative prop during a beat, a vow linked
# only by 它, a refused apology, and a clip with Chinese subtitles only.


CLIPS: tuple[ClipSpec, ...] = (
    ClipSpec(
        file="lantern_vow.mp4",
        seed=101,
        lines=(
            Line("en", "This red lantern belonged to my grandmother.",
                 "这盏红灯笼是我奶奶留下的。", "This red lantern belonged to my grandmother.", EN_VOICE,
                 names=("red_lantern",)),
            Line("en", "I swear I will bring it home before the Spring Festival.",
                 "我发誓春节前一定把它带回家。", "I swear I will bring it home before the Spring Festival.",
                 EN_VOICE, gap_before=0.7, beat="vow", refers_to=("red_lantern",)),
        ),
        shots=(
            ShotSpec(WarmInterior, (0, "end", -0.6), (Prop("red_lantern", draw_lantern(270, 300, 1.2, 5)),)),
            ShotSpec(NightStreet, (1, "start", 0.4)),
            ShotSpec(IvoryTabletop, (1, "end", 0.3), (Prop("red_lantern", draw_lantern(270, 360, 1.6, 3)),)),
            ShotSpec(TealCourtyard, None),
        ),
        roles=(
            Role("red_lantern", "catalyst", "anaphora", "vow",
                 note="the vow's 'it' points back to the lantern named in the line before; the lantern is "
                      "also on screen during the vow"),
        ),
    ),
    ClipSpec(
        file="jade_teapot.mp4",
        seed=202,
        lines=(
            Line("zh", "这把玉壶是我们家的传家宝。", "这把玉壶是我们家的传家宝。",
                 "This jade teapot is our family heirloom.", ZH_VOICE,
                 tts_input="zhe4 ba3 yu4 hu2 shi4 wo3 men5 jia1 de5 chuan2 jia1 bao3.", names=("jade_teapot",)),
            Line("zh", "你竟然把它卖给了外人！", "你竟然把它卖给了外人！", "You sold it to a stranger!", ZH_VOICE,
                 tts_input="ni3, jing4 ran2 ba3 ta1, mai4 gei3 le5 wai4 ren2.", beat="betrayal",
                 refers_to=("jade_teapot",)),
        ),
        shots=(
            ShotSpec(SlateTabletop, (0, "start", 2.6), (Prop("jade_teapot", draw_teapot(270, 430, 1.0)),)),
            ShotSpec(IvoryTabletop, (0, "end", 0.3), (Prop("jade_teapot", draw_teapot(270, 400, 1.45)),)),
            ShotSpec(PurpleCloseup, (1, "end", -0.5)),
            ShotSpec(NightStreet, None),
        ),
        roles=(
            Role("jade_teapot", "catalyst", "anaphora", "betrayal",
                 note="the betrayal's 它 points back to the teapot named in the line before"),
        ),
    ),
    ClipSpec(
        file="dumplings_mixed.mp4",
        seed=303,
        lines=(
            Line("en", "Mom, I am finally home for the New Year.", "妈，我终于回家过年了。",
                 "Mom, I am finally home for the New Year.", EN_VOICE, beat="reconciliation"),
            Line("zh", "快来吃饺子，我们一家人终于团圆了。", "快来吃饺子，我们一家人终于团圆了。",
                 "Come eat dumplings! Our family is together at last.", ZH_VOICE_MOM,
                 tts_input="kuai4 lai2 chi1 jiao3 zi5, wo3 men5 yi4 jia1 ren2 zhong1 yu2 tuan2 yuan2 le5.",
                 gap_before=0.8, names=("dumplings",), beat="reconciliation"),
        ),
        shots=(
            ShotSpec(GreyStation, (0, "end", -0.8)),
            ShotSpec(WarmInterior, (1, "start", -0.2)),
            ShotSpec(RedDinnerTable, (1, "end", -1.0), (Prop("dumplings", draw_dumplings(270, 420, 1.0)),)),
            ShotSpec(IvoryTabletop, None, (Prop("dumplings", draw_dumplings(270, 400, 1.25)),)),
        ),
        roles=(
            Role("dumplings", "catalyst", "same_line", "reconciliation",
                 note="the reunion line names 饺子; the homecoming line before it is a reconciliation without "
                      "the dumplings"),
        ),
    ),
    ClipSpec(
        file="calligraphy_wedding.mp4",
        seed=404,
        lines=(
            Line("en", "Grandpa's calligraphy is still hanging in the study.", "爷爷的书法还挂在书房里。",
                 "Grandpa's calligraphy is still hanging in the study.", EN_VOICE, names=("calligraphy",),
                 note="names the calligraphy in passing; no beat"),
            Line("en", "You lied to me about the engagement!", "订婚的事，你骗了我！",
                 "You lied to me about the engagement!", EN_VOICE, gap_before=3.0, beat="revelation",
                 note="a lie about the engagement comes out: revelation (betrayal or confrontation are "
                      "defensible second readings). Unrelated to the calligraphy named 3 s earlier: no "
                      "它/this/that, not about it"),
        ),
        shots=(
            ShotSpec(WarmInterior, (0, "end", 1.0)),
            ShotSpec(NightStreet, (1, "start", -0.4)),
            ShotSpec(PurpleCloseup, None, (Prop("red_lantern", draw_lantern(100, 215, 0.75, 3)),)),
        ),
        roles=(
            Role("calligraphy", "referenced",
                 note="named 3 s before an unrelated revelation: nearness is no link (a time-window rule "
                      "calls it catalyst)"),
            Role("red_lantern", "decorative",
                 note="hangs in a corner during the revelation, never named (an overlap rule calls it "
                      "catalyst)"),
        ),
    ),
    ClipSpec(
        file="paper_cutting_promise.mp4",
        seed=505,
        lines=(
            Line("zh", "这张剪纸是外婆剪的。", "这张剪纸是外婆剪的。", "Grandma cut this paper-cut herself.",
                 ZH_VOICE_QUICK, tts_input="zhe4 zhang1 jian3 zhi3 shi4 wai4 po2 jian3 de5.",
                 names=("paper_cutting",)),
            Line("zh", "我发誓把它传下去。", "我发誓把它传下去。", "I swear I will pass it down.", ZH_VOICE_QUICK,
                 tts_input="wo3 fa1 shi4, ba3 ta1 chuan2 xia4 qu4.", beat="vow", refers_to=("paper_cutting",),
                 note="names nothing: its only link to the paper-cut is 它"),
            Line("zh", "我带了月饼，原谅我吧。", "我带了月饼，原谅我吧。", "I brought mooncakes. Please forgive me.",
                 ZH_VOICE_QUICK_LOW, tts_input="wo3 dai4 le5 yue4 bing3, yuan2 liang4 wo3 ba5.", gap_before=0.7,
                 names=("mooncake",),
                 note="an apology whose plea is refused in the next line: no reconciliation happens"),
            Line("zh", "我不会原谅你。", "我不会原谅你。", "I will not forgive you.", ZH_VOICE_QUICK,
                 tts_input="wo3 bu2 hui4 yuan2 liang4 ni3.", gap_before=0.5,
                 note="negated forgiveness: no reconciliation (a keyword rule on 原谅/forgive finds one); a "
                      "refusal is none of the ten beat types"),
        ),
        shots=(
            ShotSpec(IvoryTabletop, (0, "end", 0.3), (Prop("paper_cutting", draw_paper_cut(270, 330, 1.0)),)),
            ShotSpec(WarmInterior, (2, "start", -0.3)),
            ShotSpec(NightStreet, (3, "start", -0.25)),
            ShotSpec(PurpleCloseup, None),
        ),
        roles=(
            Role("paper_cutting", "catalyst", "anaphora", "vow",
                 note="the vow's 它 points back to 剪纸 in the line before; the paper-cut is off screen during "
                      "the vow"),
            Role("mooncake", "referenced",
                 note="named in a refused apology: no event to link (a keyword rule makes it a catalyst of a "
                      "reconciliation that does not happen)"),
        ),
    ),
    ClipSpec(
        file="qipao_zh_only.mp4",
        seed=606,
        lines=(
            Line("zh", "这件旗袍是我妈留下的。", "这件旗袍是我妈留下的。", None, ZH_VOICE_QUICK,
                 tts_input="zhe4 jian4 qi2 pao2 shi4 wo3 ma1 liu2 xia4 de5.", names=("qipao",)),
            Line("zh", "看到这件旗袍，我才知道自己的身世。", "看到这件旗袍，我才知道自己的身世。", None, ZH_VOICE_QUICK,
                 tts_input="kan4 dao4 zhe4 jian4 qi2 pao2, wo3 cai2 zhi1 dao4 zi4 ji3 de5 shen1 shi4.",
                 names=("qipao",), beat="revelation",
                 note="her origins come out, through the qipao the line names"),
            Line("zh", "车在楼下等你。", "车在楼下等你。", None, ZH_VOICE_QUICK_LOW,
                 tts_input="che1 zai4 lou2 xia4 deng3 ni3.", note="neutral"),
        ),
        shots=(
            ShotSpec(SlateTabletop, (0, "end", 0.3), (Prop("qipao", draw_qipao(270, 120, 0.85, 2)),)),
            ShotSpec(PurpleCloseup, (1, "start", 2.2)),
            ShotSpec(IvoryTabletop, (1, "end", 0.3), (Prop("qipao", draw_qipao(270, 90, 1.05, 3)),)),
            ShotSpec(NightStreet, None),
        ),
        roles=(
            Role("qipao", "catalyst", "same_line", "revelation",
                 note="the revelation line names 旗袍; the qipao also fills the frame in its second half"),
        ),
    ),
)


# --------------------------------------------------------------------------------------------------
# Speech


def require_tools(font_path: str | None) -> tuple[str, str, str]:
    """Return (espeak-ng version, font path, ffmpeg path) or raise a SampleError that says the fix."""
    if shutil.which("espeak-ng") is None:
        raise SampleError("espeak-ng not found. Regenerating samples needs it: "
                          "apt-get update && apt-get install -y espeak-ng")
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    voices = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, check=True).stdout
    for voice in sorted({line.voice.name for clip in CLIPS for line in clip.lines}):
        if voice.split("+")[0] not in voices:
            raise SampleError(f"espeak-ng has no voice {voice!r}; install the full espeak-ng-data package")
    candidates = (font_path,) if font_path else FONT_CANDIDATES
    font = next((p for p in candidates if p and Path(p).is_file()), None)
    if font is None:
        raise SampleError(f"no CJK font found (tried {', '.join(p for p in candidates if p)}). Install one: "
                          "apt-get install -y fonts-wqy-zenhei (or fonts-noto-cjk), or pass --font PATH")
    # "eSpeak NG text-to-speech: 1.51  Data at: ..." -> "1.51"
    words = version.split()
    ver = words[words.index("text-to-speech:") + 1] if "text-to-speech:" in words else version.strip()
    return ver, font, imageio_ffmpeg.get_ffmpeg_exe()


def speak(line: Line) -> np.ndarray:
    """Synthesize one line, trimmed to its audible extent so subtitle times match the speech."""
    v = line.voice
    cmd = ["espeak-ng", "-v", v.name, "-s", str(v.speed), "-p", str(v.pitch), "--stdout",
           line.tts_input or line.text]
    wav_bytes = subprocess.run(cmd, capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav_bytes)) as w:
        if w.getframerate() != TTS_RATE or w.getnchannels() != 1:
            raise SampleError(f"unexpected espeak-ng output: {w.getframerate()} Hz, {w.getnchannels()} ch")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 300)
    if loud.size == 0:
        raise SampleError(f"espeak-ng produced silence for {line.text!r}")
    return pcm[loud[0]:loud[-1] + 1]


@dataclass
class Timed:
    line: Line
    start: float
    end: float


@dataclass
class Soundtrack:
    pcm: np.ndarray
    lines: list[Timed] = field(default_factory=list)
    n_frames: int = 0


def build_soundtrack(clip: ClipSpec) -> Soundtrack:
    parts: list[np.ndarray] = [np.zeros(int(LEAD_IN * TTS_RATE), np.int16)]
    timed: list[Timed] = []
    pos = len(parts[0])
    for i, line in enumerate(clip.lines):
        if i:
            gap = np.zeros(int(line.gap_before * TTS_RATE), np.int16)
            parts.append(gap)
            pos += len(gap)
        speech = speak(line)
        timed.append(Timed(line, pos / TTS_RATE, (pos + len(speech)) / TTS_RATE))
        parts.append(speech)
        pos += len(speech)
    # Whole frames, and a multiple of 8 of them: at 16 kHz that is a whole number of 1024-sample AAC
    # frames, so the audio ends exactly with the video and the container duration is clean.
    n_frames = math.ceil(max(MIN_DURATION, pos / TTS_RATE + TAIL) * FPS / 8) * 8
    total = n_frames * TTS_RATE // FPS
    parts.append(np.zeros(total - pos, np.int16))
    return Soundtrack(np.concatenate(parts), timed, n_frames)


def write_wav(path: Path, pcm: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(TTS_RATE)
        w.writeframes(pcm.tobytes())


# --------------------------------------------------------------------------------------------------
# Subtitles


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap; real subtitles wrap long English lines rather than shrink them below OCR size."""
    rows: list[str] = []
    for word in text.split():
        if rows and font.getlength(f"{rows[-1]} {word}") <= max_width:
            rows[-1] = f"{rows[-1]} {word}"
        else:
            rows.append(word)
    return rows


def render_subtitle(font_path: str, zh: str, en: str | None) -> tuple[Image.Image, list[str]]:
    """An RGBA image of the band height: zh row on top, en row(s) below (none when ``en`` is None),
    white with black outline."""
    zh_font = ImageFont.truetype(font_path, ZH_SIZES[-1])
    for size in ZH_SIZES:  # largest size whose row fits
        candidate = ImageFont.truetype(font_path, size)
        if candidate.getlength(zh) <= TEXT_MAX_WIDTH:
            zh_font = candidate
            break
    en_font = ImageFont.truetype(font_path, EN_SIZE)
    rows = [zh, *(wrap(en, en_font, TEXT_MAX_WIDTH) if en is not None else [])]
    img = Image.new("RGBA", (WIDTH, BAND_BOTTOM - BAND_TOP), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    y = 6
    for i, row in enumerate(rows):
        font = zh_font if i == 0 else en_font
        d.text((WIDTH / 2, y), row, font=font, fill=(255, 255, 255), stroke_width=STROKE,
               stroke_fill=(0, 0, 0), anchor="mt")
        y += (zh_font.size + 10) if i == 0 else (EN_SIZE + 6)
    bbox = img.getbbox()
    if bbox is None or bbox[3] >= img.height or bbox[0] <= 0 or bbox[2] >= WIDTH:
        raise SampleError(f"subtitle does not fit the band: {rows}")
    return img, rows


# --------------------------------------------------------------------------------------------------
# Video


def shot_bounds(clip: ClipSpec, track: Soundtrack) -> list[tuple[int, int]]:
    """Shot [start, end) in frames, from anchors on the spoken lines."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for shot in clip.shots:
        if shot.until is None:
            end = track.n_frames
        else:
            idx, which, offset = shot.until
            t = (track.lines[idx].start if which == "start" else track.lines[idx].end) + offset
            end = round(t * FPS)
        if end - start < FPS * 1.2:
            raise SampleError(f"{clip.file}: shot {len(bounds)} is shorter than 1.2 s")
        bounds.append((start, end))
        start = end
    return bounds


def encode(clip: ClipSpec, track: Soundtrack, font_path: str, ffmpeg: str, out: Path,
           tmp: Path) -> tuple[list[tuple[int, int]], list[dict[str, object]], list[list[str]]]:
    wav = tmp / f"{Path(clip.file).stem}.wav"
    write_wav(wav, track.pcm)
    bounds = shot_bounds(clip, track)
    rng = np.random.default_rng(clip.seed)
    painters = [spec.painter(np.random.default_rng(rng.integers(2**32))) for spec in clip.shots]
    subs = [render_subtitle(font_path, t.line.subtitle_zh, t.line.subtitle_en) for t in track.lines]
    # A subtitle is on screen for exactly the frames whose time falls inside its spoken line.
    sub_frames = [(math.ceil(t.start * FPS), math.floor(t.end * FPS)) for t in track.lines]

    cmd = [ffmpeg, "-y", "-hide_banner", "-loglevel", "error",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "pipe:0",
           "-i", str(wav), "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", "-preset", "slow", "-crf", "27", "-pix_fmt", "yuv420p", "-profile:v", "high",
           "-g", str(FPS * 2), "-threads", "1",  # one thread: bit-identical output across machines
           "-c:a", "aac", "-b:a", "40k", "-ac", "1", "-ar", str(AUDIO_RATE),
           "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
           "-movflags", "+faststart", str(out)]
    err_path = tmp / "ffmpeg.err"
    prop_boxes: list[dict[str, object]] = []
    with err_path.open("wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=err)
        assert proc.stdin is not None
        try:
            for (f0, f1), spec, painter in zip(bounds, clip.shots, painters, strict=True):
                boxes: dict[str, list[int]] = {}
                for f in range(f0, f1):
                    t = (f - f0) / FPS
                    img = painter.frame(t)
                    d = ImageDraw.Draw(img)
                    for prop in spec.props:
                        b = prop.draw(d, t)
                        u = boxes.setdefault(prop.symbol_id, list(b))
                        boxes[prop.symbol_id] = [min(u[0], b[0]), min(u[1], b[1]), max(u[2], b[2]),
                                                 max(u[3], b[3])]
                    for (s0, s1), (sub, _) in zip(sub_frames, subs, strict=True):
                        if s0 <= f <= s1:
                            img.paste(sub, (0, BAND_TOP), sub)
                    proc.stdin.write(img.tobytes())
                for symbol_id, b in boxes.items():
                    if b[3] > BAND_TOP:
                        raise SampleError(f"{clip.file}: {symbol_id} overlaps the subtitle band")
                    prop_boxes.append({
                        "symbol_id": symbol_id,
                        "start_seconds": round(f0 / FPS, 3),
                        "end_seconds": round(f1 / FPS, 3),
                        "box": [max(0, b[0]), max(0, b[1]), min(WIDTH, b[2]), min(HEIGHT, b[3])],
                    })
        except BrokenPipeError:
            pass  # ffmpeg died; its stderr is reported below
        finally:
            proc.stdin.close()
            rc = proc.wait()
    if rc != 0:
        raise SampleError(f"ffmpeg failed ({rc}) for {clip.file}:\n{err_path.read_text(errors='replace')}")
    return bounds, prop_boxes, [rows for _, rows in subs]


# --------------------------------------------------------------------------------------------------


def media_entry(clip: ClipSpec, track: Soundtrack, bounds: list[tuple[int, int]],
                props: list[dict[str, object]], rows: list[list[str]], size_bytes: int) -> dict[str, Any]:
    """What the encode produced: timings, subtitles, props (the coding is added by ``add_coding``)."""
    return {
        "file": clip.file,
        "duration_seconds": round(track.n_frames / FPS, 3),
        "width": WIDTH,
        "height": HEIGHT,
        "fps": FPS,
        "size_bytes": size_bytes,
        "shots": [{"start_seconds": round(a / FPS, 3), "end_seconds": round(b / FPS, 3)} for a, b in bounds],
        "lines": [{
            "start_seconds": round(t.start, 3),
            "end_seconds": round(t.end, 3),
            "language": t.line.language,
            "text": t.line.text,
            "names": list(t.line.names),
            "beat": t.line.beat,
            "subtitle_zh": t.line.subtitle_zh,
            "subtitle_en": t.line.subtitle_en,
            "subtitle_rows": r,
            "tts": {"voice": t.line.voice.name, "speed": t.line.voice.speed,
                    "pitch": t.line.voice.pitch, "input": t.line.tts_input or t.line.text},
        } for t, r in zip(track.lines, rows, strict=True)],
        "subtitle_band": {"top": BAND_TOP, "bottom": BAND_BOTTOM},
        "props": props,
    }


# --------------------------------------------------------------------------------------------------
# Coding: anaphora, notes and roles, checked against the rules, then flattened to gold.csv


def check_coding(clip: ClipSpec) -> None:
    """Refuse a coding that breaks the role rules (DESIGN.md section 1) or does not cover the clip."""
    where = clip.file
    named = {symbol for line in clip.lines for symbol in line.names}
    shown = {prop.symbol_id for shot in clip.shots for prop in shot.props}
    for i, line in enumerate(clip.lines):
        if line.beat is not None and line.beat not in EVENT_TYPES:
            raise SampleError(f"{where}: line {i} has an unknown beat {line.beat!r}")
        before = {symbol for earlier in clip.lines[max(0, i - 2):i] for symbol in earlier.names}
        if not set(line.refers_to) <= before:
            raise SampleError(f"{where}: line {i} refers to {line.refers_to} not named in the two lines before")
    coded = [role.symbol_id for role in clip.roles]
    if len(coded) != len(set(coded)) or set(coded) != named | shown:
        raise SampleError(f"{where}: roles must code each shown or named symbol once: {sorted(named | shown)}, "
                          f"got {coded}")
    for role in clip.roles:
        sid = role.symbol_id
        if role.role not in ROLES:
            raise SampleError(f"{where}: {sid}: role must be one of {ROLES}, got {role.role!r}")
        if (role.role == "catalyst") != (role.link is not None) or (role.link is not None) != (
                role.event_type is not None):
            raise SampleError(f"{where}: {sid}: a catalyst (and only a catalyst) has a link and an event_type")
        if role.role == "decorative" and sid in named:
            raise SampleError(f"{where}: {sid} is named, so it is not decorative")
        if role.role == "referenced" and sid not in named:
            raise SampleError(f"{where}: {sid} is never named, so it is not referenced")
        if role.link is not None and role.link not in LINKS:
            raise SampleError(f"{where}: {sid}: link must be one of {LINKS}, got {role.link!r}")
        beat_lines = [line for line in clip.lines if line.beat == role.event_type]
        if role.role == "catalyst" and not beat_lines:
            raise SampleError(f"{where}: {sid}: no line carries the {role.event_type} beat it is linked to")
        if role.link == "same_line" and not any(sid in line.names for line in beat_lines):
            raise SampleError(f"{where}: {sid}: same_line, but no {role.event_type} line names it")
        if role.link == "anaphora" and not any(sid in line.refers_to for line in beat_lines):
            raise SampleError(f"{where}: {sid}: anaphora, but no {role.event_type} line refers back to it")
        if role.link == "visual_focus" and sid not in shown:
            raise SampleError(f"{where}: {sid}: visual_focus, but it is never on screen")


def add_coding(clip: ClipSpec, entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with each line's ``refers_to`` and ``note`` and the clip's ``roles``; nothing else changes.

    Role times: one entry per prop shot of a symbol on screen (origin visual), else the span of the lines
    that name it (origin dialogue).
    """
    check_coding(clip)
    if len(entry["lines"]) != len(clip.lines):
        raise SampleError(f"{clip.file}: samples.json has {len(entry['lines'])} lines, the spec {len(clip.lines)}")
    lines = []
    for recorded, line in zip(entry["lines"], clip.lines, strict=True):
        if (recorded["text"], recorded["names"], recorded["beat"]) != (line.text, list(line.names), line.beat):
            raise SampleError(f"{clip.file}: samples.json line {recorded['text']!r} differs from the spec")
        coded: dict[str, Any] = {}
        for key, value in recorded.items():
            if key in ("refers_to", "note"):
                continue
            coded[key] = value
            if key == "names":
                coded["refers_to"] = list(line.refers_to)
            elif key == "beat":
                coded["note"] = line.note
        lines.append(coded)
    roles: list[dict[str, Any]] = []
    for role in clip.roles:
        spans = [(p["start_seconds"], p["end_seconds"]) for p in entry["props"] if p["symbol_id"] == role.symbol_id]
        origin = "visual"
        if not spans:
            naming = [ln for ln in lines if role.symbol_id in ln["names"]]
            spans = [(min(ln["start_seconds"] for ln in naming), max(ln["end_seconds"] for ln in naming))]
            origin = "dialogue"
        roles.extend({
            "symbol_id": role.symbol_id,
            "start_seconds": start,
            "end_seconds": end,
            "role": role.role,
            "link": role.link,
            "event_type": role.event_type,
            "origin": origin,
            "note": role.note,
        } for start, end in spans)
    roles.sort(key=lambda r: (r["start_seconds"], r["symbol_id"]))
    coded_entry = {key: value for key, value in entry.items() if key != "roles"}
    coded_entry["lines"] = lines
    coded_entry["roles"] = roles
    return coded_entry


GOLD_COLUMNS = ("video", "kind", "start_seconds", "end_seconds", "symbol_id", "event_type", "role", "note")


def gold_rows(manifest: dict[str, Any]) -> list[dict[str, str]]:
    """One row per (line, named symbol) [mention], per line with a beat [event], per role entry [role]."""

    def t(x: float) -> str:
        return f"{round(float(x), 3):.3f}"

    def said(line: dict[str, Any]) -> str:  # the line, and the coder's note on it if any
        return f"{line['text']} [{line['note']}]" if line.get("note") else line["text"]

    rows: list[dict[str, str]] = []
    for sample in manifest["samples"]:
        video = Path(sample["file"]).stem
        for line in sample["lines"]:
            for symbol in line["names"]:
                rows.append({"video": video, "kind": "mention", "start_seconds": t(line["start_seconds"]),
                             "end_seconds": t(line["end_seconds"]), "symbol_id": symbol, "event_type": "",
                             "role": "", "note": said(line)})
        for line in sample["lines"]:
            if line["beat"]:
                rows.append({"video": video, "kind": "event", "start_seconds": t(line["start_seconds"]),
                             "end_seconds": t(line["end_seconds"]), "symbol_id": "", "event_type": line["beat"],
                             "role": "", "note": said(line)})
        for role in sample["roles"]:
            note = f"origin={role['origin']}"
            if role["link"]:
                note += f"; link={role['link']}"
            if role["note"]:
                note += f"; {role['note']}"
            rows.append({"video": video, "kind": "role", "start_seconds": t(role["start_seconds"]),
                         "end_seconds": t(role["end_seconds"]), "symbol_id": role["symbol_id"],
                         "event_type": role["event_type"] or "", "role": role["role"], "note": note})
    return rows


def write_gold(manifest: dict[str, Any], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=GOLD_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(gold_rows(manifest))


# --------------------------------------------------------------------------------------------------


def select(only: list[str] | None) -> set[str]:
    """Clip files named by ``--only`` (file name or stem); all clips when None."""
    if not only:
        return {clip.file for clip in CLIPS}
    by_name = {name: clip.file for clip in CLIPS for name in (clip.file, Path(clip.file).stem)}
    unknown = [name for name in only if name not in by_name]
    if unknown:
        raise SampleError(f"unknown clip(s) {unknown}; the clips are {', '.join(Path(c.file).stem for c in CLIPS)}")
    return {by_name[name] for name in only}


def make_all(out_dir: Path, font_path: str | None, only: list[str] | None = None) -> dict[str, Any]:
    espeak_version, font, ffmpeg = require_tools(font_path)
    chosen = select(only)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "samples.json"
    previous: dict[str, dict[str, Any]] = {}
    if only:
        if not manifest_path.is_file():
            raise SampleError(f"--only needs the existing {manifest_path} for the clips it does not encode")
        previous = {s["file"]: s for s in json.loads(manifest_path.read_text(encoding="utf-8"))["samples"]}
    voices = sorted({f"{ln.voice.name} (-s {ln.voice.speed} -p {ln.voice.pitch})"
                     for c in CLIPS for ln in c.lines})
    samples: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="motiflens-samples-") as tmp_name:
        tmp = Path(tmp_name)
        for clip in CLIPS:
            out = out_dir / clip.file
            if clip.file in chosen:
                check_coding(clip)  # before minutes of encoding
                track = build_soundtrack(clip)
                bounds, props, rows = encode(clip, track, font, ffmpeg, out, tmp)
                entry = media_entry(clip, track, bounds, props, rows, out.stat().st_size)
                print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {track.n_frames / FPS:.2f} s)")
            else:
                entry = previous.get(clip.file)
                if entry is None or not out.is_file() or out.stat().st_size != entry["size_bytes"]:
                    raise SampleError(f"{clip.file} is not encoded by --only, so {out} and its samples.json entry "
                                      "must exist and agree (size_bytes); add it to --only")
                print(f"kept {out} (coding refreshed)")
            samples.append(add_coding(clip, entry))
    manifest: dict[str, Any] = {
        "generator": (f"{GENERATOR_COMMAND} (espeak-ng {espeak_version}; voices: {', '.join(voices)}; "
                      f"font: {Path(font).name}; ffmpeg: imageio-ffmpeg {Path(ffmpeg).name})"),
        "samples": samples,
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_gold(manifest, out_dir / "gold.csv")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/samples"), help="output folder")
    parser.add_argument("--font", default=None, help="CJK TrueType/TTC font (default: first installed of "
                        "WenQuanYi Zen Hei, Noto Sans CJK)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="encode only this clip (file name or stem; repeatable); the others keep their media "
                             "and samples.json entries, with their coding refreshed")
    args = parser.parse_args(argv)
    try:
        manifest = make_all(args.out, args.font, args.only)
    except SampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = sum(int(s["size_bytes"]) for s in manifest["samples"])
    print(f"total {total / 1e6:.2f} MB; ground truth in {args.out / 'samples.json'} and {args.out / 'gold.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
