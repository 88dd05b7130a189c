"""Per-video report page: the video with synchronized lanes for shots, transcript, symbols, events and themes.

The page is one self-contained HTML file (no CDN, no external CSS or JS) so it opens from file:// inside an output
folder on an offline machine. The timeline travels as a JSON island; the script builds the lanes from it with
textContent/setAttribute only, so text that came from a video (speech, OCR, file names) is never parsed as HTML.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from motiflens.core.atomic import inside, write_text

PAGE_NAME = "report.html"

ROLES = ("decorative", "referenced", "catalyst")

# Inside <script> the HTML parser only looks for "</script" and "<!--"; escaping every <, > and & makes both
# impossible. U+2028/2029 are escaped because older JS engines treat them as line ends inside string literals.
_SCRIPT_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_for_script(value: Any) -> str:
    """JSON text that is safe inside `<script type="application/json">` and parses back to `value`."""
    # allow_nan=False: NaN/Infinity would be written as bare words that JSON.parse rejects.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(
        _SCRIPT_JSON_ESCAPES
    )


def relative_href(folder: Path, target: Path) -> str:
    """A relative URL from `folder` to `target`, percent-encoded so spaces, '#', '?' and quotes survive."""
    relative = os.path.relpath(target.resolve(), folder.resolve())
    return "/".join(quote(part) for part in Path(relative).parts)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, rest = divmod(float(seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


def _number(value: Any, digits: int = 2) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    return f"{value:.{digits}f}"


def _sortable(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _counts_table(caption: str, counts: Mapping[str, Any], unit: str = "") -> str:
    if not counts:
        return f"<p><b>{html.escape(caption)}:</b> none</p>"
    rows = "".join(
        f"<tr><td>{html.escape(str(key))}</td><td class=num>{html.escape(str(value))}{unit}</td></tr>"
        for key, value in sorted(counts.items(), key=lambda item: (-_sortable(item[1]), str(item[0])))
    )
    return f"<table class=counts><caption>{html.escape(caption)}</caption>{rows}</table>"


def _stream_lines(streams: Mapping[str, Any]) -> str:
    items = []
    for name in sorted(streams):
        stream = streams[name] if isinstance(streams[name], Mapping) else {}
        status = str(stream.get("status", "unknown"))
        reason = stream.get("reason")
        text = f"{name} stream {status}" + (f": {reason}" if reason else "")
        items.append(f'<li class="stream status-{html.escape(status)}">{html.escape(text)}</li>')
    return f"<ul class=streams>{''.join(items)}</ul>"


def _summary_box(document: Mapping[str, Any]) -> str:
    video = document.get("video") or {}
    summary = document.get("summary") or {}
    transcript = document.get("transcript") or {}
    index = summary.get("internalization_index")
    index_text = _number(index) if index is not None else "n/a (no symbol on screen)"
    dialogue = summary.get("dialogue_internalization")
    dialogue_text = _number(dialogue) if dialogue is not None else "n/a (no symbol named)"
    facts = [
        ("Duration", _clock(video.get("duration_seconds"))),
        ("Frame", f"{video.get('width', '?')}×{video.get('height', '?')} {video.get('orientation', '')}".strip()),
        ("Language", str(transcript.get("language") or "unknown")),
        ("Internalization index", index_text),
        ("Dialogue internalization", dialogue_text),
    ]
    fact_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    parts = [
        f"<table class=facts>{fact_rows}</table>",
        _counts_table("Symbol screen seconds", summary.get("symbol_screen_seconds") or {}, " s"),
    ]
    if summary.get("role_seconds"):
        parts.append(_counts_table("Symbol seconds by role", summary["role_seconds"], " s"))
    parts.append(_counts_table("Plot events", summary.get("event_counts") or {}))
    if summary.get("theme_counts"):
        parts.append(_counts_table("Themes", summary["theme_counts"]))
    parts.append(_stream_lines(document.get("streams") or {}))
    return f'<section class=summary aria-label="summary">{"".join(parts)}</section>'


def render_video_page(document: dict[str, Any], video_href: str | None) -> str:
    """The HTML of one video's report; `video_href` is the (relative, URL-encoded) video link, None if missing."""
    video = document.get("video") or {}
    video_id = str(video.get("id", "video"))
    file_name = str(video.get("path") or video_id)
    if video_href is not None:
        player = (
            f'<video id=player controls preload=metadata src="{html.escape(video_href, quote=True)}"></video>'
        )
    else:
        player = f'<p id=player-missing class=missing>Video file not found: {html.escape(file_name)}</p>'
    legend = "".join(f'<span class="swatch role-{role}"></span>{role} ' for role in ROLES)
    return (
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        '<meta name=viewport content="width=device-width, initial-scale=1">\n'
        f"<title>MotifLens · {html.escape(video_id)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(video_id)}</h1><p class=file>{html.escape(file_name)}</p></header>\n"
        f'<div class=top><div class=player>{player}<div id=now aria-live=polite></div></div>\n'
        f"{_summary_box(document)}</div>\n"
        f'<div class=controls><label>Zoom <input id=zoom type=range min=1 max=64 step=1 value=1></label>'
        f'<span class=legend>Symbol role: {legend}</span></div>\n'
        '<div id=timeline><div id=lane-titles></div><div id=scroller><div id=tracks></div></div></div>\n'
        '<div id=tooltip role=tooltip hidden></div>\n'
        "<noscript><p>The lanes need JavaScript; the summary above is complete without it.</p></noscript>\n"
        f'<script type="application/json" id="timeline-data">{json_for_script(document)}</script>\n'
        f"<script>{_JS}</script>\n</body>\n</html>\n"
    )


def write_video_page(document: dict[str, Any], video_folder: Path, video_file: Path | None) -> Path:
    """Write `report.html` into the video's output folder (atomically) and return its path."""
    href = relative_href(video_folder, video_file) if video_file is not None and video_file.is_file() else None
    target = inside(video_folder, PAGE_NAME)
    write_text(target, render_video_page(document, href))
    return target


_CSS = """
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:12px 16px;color:#1d2330;background:#fafbfc}
h1{font-size:18px;margin:0}.file{margin:2px 0 10px;color:#5a6272;word-break:break-all}
.top{display:flex;gap:20px;align-items:flex-start;flex-wrap:wrap}
.player{flex:0 0 auto}video{max-height:56vh;max-width:92vw;background:#000;display:block}
.missing{padding:24px;border:2px dashed #c0392b;color:#c0392b;max-width:360px}
/* Fixed height: a long current line must not shift the lanes under the pointer. */
#now{height:4.2em;overflow:hidden;max-width:420px;margin-top:6px;color:#333}
.summary{flex:1 1 320px;display:flex;flex-wrap:wrap;gap:10px 24px;align-items:flex-start}
.summary table{border-collapse:collapse}
.summary th,.summary td{padding:1px 8px 1px 0;text-align:left;vertical-align:top}
.summary caption{text-align:left;font-weight:600}.num{text-align:right}
.streams{margin:0;padding-left:18px;flex-basis:100%}.status-skipped,.status-failed{color:#b03a2e;font-weight:600}
.controls{margin:12px 0 6px;display:flex;gap:24px;align-items:center;flex-wrap:wrap}
.swatch{display:inline-block;width:12px;height:12px;margin:0 3px 0 8px;vertical-align:-1px;border-radius:2px}
#timeline{display:flex;border:1px solid #d5d9e0;background:#fff}
#lane-titles{flex:0 0 130px;border-right:1px solid #d5d9e0}
.lane-title{padding:0 6px;font-size:12px;color:#445;overflow:hidden;border-bottom:1px solid #eef0f3;display:flex;
align-items:center}
#scroller{flex:1 1 auto;overflow-x:auto;overflow-y:hidden}
#tracks{position:relative;width:100%;min-width:100%;cursor:pointer}
.axis{position:relative;height:20px;border-bottom:1px solid #d5d9e0;font-size:11px;color:#667}
.tick{position:absolute;top:0;height:100%;border-left:1px solid #d5d9e0;padding-left:2px;white-space:nowrap}
.track{position:relative;border-bottom:1px solid #eef0f3}
.lane-item{position:absolute;height:18px;min-width:3px;padding:0 3px;font-size:11px;line-height:18px;
white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border-radius:3px;color:#fff;background:#7f8c9d;
border:1px solid rgba(0,0,0,.15)}
.lane-item:hover,.lane-item:focus{outline:2px solid #1d2330;z-index:2}
.shot{background:#b8c2cf;color:#1d2330}.shot.odd{background:#d5dce5}
.segment.source-asr{background:#2e86c1}.segment.source-ocr{background:#16a085}
.mention{background:#8e6fbf}.event{background:#6c3483}
.role-decorative,.swatch.role-decorative{background:#95a5a6}
.role-referenced,.swatch.role-referenced{background:#e0a800;color:#1d2330}
.role-catalyst,.swatch.role-catalyst{background:#c0392b}
.theme-self_other{background:#d35400}.theme-tradition_modernity{background:#7d6608}
.theme-home_belonging{background:#1e8449}.theme-local_global{background:#1f618d}
.playhead{position:absolute;top:0;bottom:0;width:2px;margin-left:-1px;background:#e74c3c;pointer-events:none;z-index:3}
#tooltip{position:fixed;z-index:10;max-width:380px;padding:8px 10px;background:#1d2330;color:#fff;font-size:12px;
border-radius:4px;pointer-events:none;box-shadow:0 2px 8px rgba(0,0,0,.3)}
#tooltip .tip-title{font-weight:600;margin-bottom:3px}#tooltip .tip-line{margin:2px 0;white-space:pre-wrap}
#tooltip .tip-muted{color:#b8c2cf}#tooltip img{display:block;max-width:160px;max-height:160px;margin-top:6px}
"""

_JS = r"""
(function () {
  'use strict';
  var doc = JSON.parse(document.getElementById('timeline-data').textContent);
  var video = document.getElementById('player');
  var ROW = 22;
  var LANES = [
    ['shots', 'Shots'], ['asr', 'Speech (ASR)'], ['ocr', 'Subtitles (OCR)'], ['mentions', 'Mentions'],
    ['symbols', 'Symbols'], ['events', 'Plot events'], ['themes', 'Themes']
  ];

  function num(x) { return (typeof x === 'number' && isFinite(x)) ? x : null; }
  function list(x) { return Array.isArray(x) ? x : []; }
  function token(x) { return String(x).toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 40) || 'none'; }
  function secs(t) { return t.toFixed(2) + ' s'; }
  function fixed(x, d) { return num(x) === null ? 'n/a' : x.toFixed(d); }

  var segments = list((doc.transcript || {}).segments);
  var segmentById = {};
  segments.forEach(function (s) { if (s && s.id !== undefined) segmentById[s.id] = s; });

  var items = [];
  function add(lane, kind, rec, start, end, label, classes) {
    start = num(start); end = num(end);
    if (start === null) return;
    if (end === null || end < start) end = start;
    items.push({lane: lane, kind: kind, rec: rec, start: start, end: end, label: String(label),
                classes: classes});
  }
  list(doc.shots).forEach(function (s, i) {
    add('shots', 'shot', s, s.start_seconds, s.end_seconds, '#' + (s.index !== undefined ? s.index : i),
        ['shot', i % 2 ? 'odd' : 'even']);
  });
  segments.forEach(function (s) {
    var lane = s.source === 'ocr' ? 'ocr' : 'asr';
    add(lane, 'segment', s, s.start_seconds, s.end_seconds, s.text || '', ['segment', 'source-' + lane]);
  });
  list(doc.mentions).forEach(function (m) {
    add('mentions', 'mention', m, m.start_seconds, m.end_seconds, m.symbol_id, ['mention', 'match-' + token(m.match)]);
  });
  list(doc.symbols).forEach(function (s) {
    add('symbols', 'symbol', s, s.start_seconds, s.end_seconds, s.label || s.symbol_id,
        ['symbol', 'role-' + token(s.role), 'origin-' + token(s.origin || 'visual')]);
  });
  list(doc.events).forEach(function (e) {
    add('events', 'event', e, e.start_seconds, e.end_seconds, e.type, ['event', 'type-' + token(e.type)]);
  });
  list(doc.themes).forEach(function (t) {
    var seg = segmentById[t.segment_id] || {};
    var start = num(t.start_seconds) !== null ? t.start_seconds : seg.start_seconds;
    var end = num(t.end_seconds) !== null ? t.end_seconds : seg.end_seconds;
    add('themes', 'theme', t, start, end, t.theme, ['theme', 'theme-' + token(t.theme)]);
  });

  var duration = num((doc.video || {}).duration_seconds) || 0;
  items.forEach(function (it) { if (it.end > duration) duration = it.end; });
  if (duration <= 0) duration = 1;
  function clamp(t) { return Math.min(Math.max(t, 0), duration); }
  function pct(t) { return (clamp(t) / duration * 100) + '%'; }

  // Pack each lane into rows so overlapping items stay visible side by side instead of hiding each other.
  var rowsByLane = {};
  LANES.forEach(function (l) { rowsByLane[l[0]] = []; });
  items.slice().sort(function (a, b) { return a.start - b.start || a.end - b.end; }).forEach(function (it) {
    var rows = rowsByLane[it.lane], r = 0;
    while (r < rows.length && rows[r] > it.start + 1e-6) r++;
    rows[r] = it.end;
    it.row = r;
  });

  var tracks = document.getElementById('tracks');
  var titles = document.getElementById('lane-titles');
  var scroller = document.getElementById('scroller');
  var titleFrag = document.createDocumentFragment();
  var trackFrag = document.createDocumentFragment();
  var axis = document.createElement('div');
  axis.className = 'axis';
  trackFrag.appendChild(axis);
  var axisTitle = document.createElement('div');
  axisTitle.className = 'lane-title';
  axisTitle.style.height = '21px';
  axisTitle.textContent = 'time';
  titleFrag.appendChild(axisTitle);
  var trackByLane = {};
  LANES.forEach(function (l) {
    var height = Math.max(1, rowsByLane[l[0]].length) * ROW + 4;
    var title = document.createElement('div');
    title.className = 'lane-title';
    title.style.height = (height + 1) + 'px';
    title.textContent = l[1];
    titleFrag.appendChild(title);
    var track = document.createElement('div');
    track.className = 'track lane-' + l[0];
    track.style.height = height + 'px';
    trackByLane[l[0]] = track;
    trackFrag.appendChild(track);
  });
  items.forEach(function (it, i) {
    var el = document.createElement('div');
    el.className = 'lane-item';
    it.classes.forEach(function (c) { el.classList.add(c); });
    el.style.left = pct(it.start);
    el.style.width = ((clamp(it.end) - clamp(it.start)) / duration * 100) + '%';
    el.style.top = (2 + it.row * ROW) + 'px';
    el.textContent = it.label;
    el.setAttribute('data-start', String(it.start));
    el.setAttribute('data-end', String(it.end));
    el.setAttribute('data-kind', it.kind);
    el.setAttribute('data-index', String(i));
    el.setAttribute('tabindex', '0');
    el.setAttribute('role', 'button');
    el.setAttribute('aria-label', it.kind + ' ' + it.label + ' at ' + secs(it.start));
    trackByLane[it.lane].appendChild(el);
  });
  var playhead = document.createElement('div');
  playhead.className = 'playhead';
  trackFrag.appendChild(playhead);
  titles.appendChild(titleFrag);
  tracks.appendChild(trackFrag);

  function drawAxis(zoom) {
    var steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200];
    var step = steps[steps.length - 1];
    for (var i = 0; i < steps.length; i++) { if (duration / steps[i] <= 12 * zoom) { step = steps[i]; break; } }
    var frag = document.createDocumentFragment();
    for (var t = 0; t <= duration + 1e-9; t += step) {
      var tick = document.createElement('div');
      tick.className = 'tick';
      tick.style.left = pct(t);
      var m = Math.floor(t / 60), s = t - m * 60;
      tick.textContent = m + ':' + (s < 10 ? '0' : '') + (step < 1 ? s.toFixed(1) : Math.round(s));
      frag.appendChild(tick);
    }
    axis.textContent = '';
    axis.appendChild(frag);
  }
  drawAxis(1);
  document.getElementById('zoom').addEventListener('input', function (ev) {
    var zoom = Number(ev.target.value) || 1;
    tracks.style.width = (zoom * 100) + '%';
    drawAxis(zoom);
    follow(true);
  });

  // Tooltip: one shared element, filled only when the pointer enters an item.
  var tip = document.getElementById('tooltip');
  function line(text, cls) {
    var p = document.createElement('div');
    p.className = 'tip-line' + (cls ? ' ' + cls : '');
    p.textContent = text;
    tip.appendChild(p);
  }
  function safeRelative(path) {
    // Thumbnails are relative to the video folder; anything with a scheme or an absolute path is refused.
    if (typeof path !== 'string' || !path || /^[a-z][a-z0-9+.-]*:/i.test(path) || /^[\/\\]/.test(path)) return null;
    return path.split('/').map(encodeURIComponent).join('/');
  }
  function fillTip(it) {
    var r = it.rec;
    tip.textContent = '';
    var title = document.createElement('div');
    title.className = 'tip-title';
    tip.appendChild(title);
    line(secs(it.start) + ' – ' + secs(it.end), 'tip-muted');
    if (it.kind === 'shot') {
      title.textContent = 'Shot ' + it.label;
    } else if (it.kind === 'segment') {
      title.textContent = (r.source === 'ocr' ? 'Subtitle (OCR) ' : 'Speech (ASR) ') + (r.id || '');
      line(r.text || '');
      if (r.text_en && r.text_en !== r.text) line('EN: ' + r.text_en, 'tip-muted');
    } else if (it.kind === 'mention') {
      title.textContent = 'Mention of ' + r.symbol_id;
      line(r.text || '');
      line((r.match || '') + (r.term ? ' "' + r.term + '"' : '') + ', score ' + fixed(r.score, 2), 'tip-muted');
    } else if (it.kind === 'symbol') {
      title.textContent = (r.label || r.symbol_id) + ' [' + r.role + ']';
      line('narrative weight ' + fixed(r.narrative_weight, 2) + ', peak ' + fixed(r.peak_score, 2) +
           (num(r.peak_seconds) !== null ? ' at ' + secs(r.peak_seconds) : '') +
           (r.origin ? ', ' + r.origin : ''), 'tip-muted');
      list(r.evidence).forEach(function (e) {
        line(String(e.kind) + (e.text ? ': ' + e.text : ''));
      });
      var src = safeRelative(r.thumbnail);
      if (src) {
        var img = document.createElement('img');
        img.setAttribute('src', src);
        img.setAttribute('alt', String(r.label || r.symbol_id));
        tip.appendChild(img);
      }
    } else if (it.kind === 'event') {
      title.textContent = it.label + ' (confidence ' + fixed(r.confidence, 2) + ')';
      if (r.text) line(r.text);
      line('cues: ' + list(r.cues).join(', '), 'tip-muted');
      if (list(r.matched_terms).length) line('terms: ' + r.matched_terms.join(', '), 'tip-muted');
      list(r.links).forEach(function (k) {
        line('drives ' + String(k.symbol_id) + ' (' + String(k.kind) + ': ' + String(k.text) + ')');
      });
    } else if (it.kind === 'theme') {
      title.textContent = it.label + ' (score ' + fixed(r.score, 2) + ')';
      var seg = segmentById[r.segment_id];
      if (seg) line(seg.text || '');
    }
  }
  function itemOf(target) {
    var el = target && target.closest ? target.closest('.lane-item') : null;
    return el ? {el: el, it: items[Number(el.getAttribute('data-index'))]} : null;
  }
  function place(x, y) {
    var w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.max(4, Math.min(x + 14, window.innerWidth - w - 4)) + 'px';
    tip.style.top = (y + h + 20 > window.innerHeight ? Math.max(4, y - h - 10) : y + 16) + 'px';
  }
  tracks.addEventListener('mouseover', function (ev) {
    var hit = itemOf(ev.target);
    if (!hit) return;
    fillTip(hit.it);
    tip.hidden = false;
    place(ev.clientX, ev.clientY);
  });
  tracks.addEventListener('mousemove', function (ev) { if (!tip.hidden) place(ev.clientX, ev.clientY); });
  tracks.addEventListener('mouseout', function (ev) {
    if (itemOf(ev.target) && !itemOf(ev.relatedTarget)) tip.hidden = true;
  });
  tracks.addEventListener('focusin', function (ev) {
    var hit = itemOf(ev.target);
    if (!hit) return;
    fillTip(hit.it);
    tip.hidden = false;
    var box = hit.el.getBoundingClientRect();
    place(box.left, box.bottom);
  });
  tracks.addEventListener('focusout', function () { tip.hidden = true; });

  function seek(t) {
    if (!video) return;
    video.currentTime = t;
    var playing = video.play();
    // Autoplay policies may refuse play(); the seek has happened either way.
    if (playing && playing.catch) playing.catch(function () {});
    paint();
  }
  tracks.addEventListener('click', function (ev) {
    var hit = itemOf(ev.target);
    if (hit) { seek(Number(hit.el.getAttribute('data-start'))); return; }
    var box = tracks.getBoundingClientRect();
    if (box.width > 0) seek((ev.clientX - box.left) / box.width * duration);
  });
  tracks.addEventListener('keydown', function (ev) {
    var hit = itemOf(ev.target);
    if (!hit || (ev.key !== 'Enter' && ev.key !== ' ')) return;
    ev.preventDefault();
    seek(Number(hit.el.getAttribute('data-start')));
  });

  var now = document.getElementById('now');
  var lastLine = null;
  function showNow(t) {
    var active = null;
    for (var i = 0; i < segments.length; i++) {
      var s = segments[i];
      if (num(s.start_seconds) !== null && s.start_seconds <= t && t < s.end_seconds) { active = s; break; }
    }
    var text = active ? (active.text || '') : '';
    if (text !== lastLine) { now.textContent = text; lastLine = text; }
  }
  function paint() {
    var t = video ? video.currentTime : 0;
    playhead.style.left = pct(t);
  }
  function follow(force) {
    if (!video || scroller.scrollWidth <= scroller.clientWidth) return;
    var x = video.currentTime / duration * scroller.scrollWidth;
    if (force || x < scroller.scrollLeft || x > scroller.scrollLeft + scroller.clientWidth - 40) {
      scroller.scrollLeft = Math.max(0, x - scroller.clientWidth * 0.2);
    }
  }
  if (video) {
    var frame = 0;
    var loop = function () { paint(); frame = video.paused ? 0 : requestAnimationFrame(loop); };
    video.addEventListener('play', function () { if (!frame) frame = requestAnimationFrame(loop); });
    video.addEventListener('timeupdate', function () { paint(); showNow(video.currentTime); follow(false); });
    video.addEventListener('seeked', function () { paint(); showNow(video.currentTime); follow(false); });
  }
  paint();
})();
"""
