(function () {
  'use strict';
  var doc = JSON.parse(document.getElementById('timeline-data').textContent);
  var video = document.getElementById('player');
  var ROW = 22;
  var LANES = [
    ['shots', 'Shots'], ['asr', 'Speech (ASR)'], ['ocr', 'Subtitles (OCR)'], ['mentions', 'Mentions'],
    ['symbols', 'Symbols'], ['events', 'Plot events'], ['themes', 'Themes']
  ];

  function num(x) { return (typeof x === 'number' && Number.isFinite(x)) ? x : null; }
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
    if (typeof path !== 'string' || !path || /^[a-z][a-z0-9+.-]*:/i.test(path) || /^[/\\]/.test(path)) return null;
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
  // A deep link such as report.html#t=12.5 (the series pages write them) opens the episode at that time.
  function seekToHash() {
    var found = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
    if (!found || !video) return;
    var t = clamp(Number(found[1]));
    // Before the metadata is known, a seek only sets the start position; do it once it is known.
    if (video.readyState >= 1) { video.currentTime = t; paint(); follow(true); }
    else video.addEventListener('loadedmetadata', seekToHash, { once: true });
  }
  window.addEventListener('hashchange', seekToHash);
  seekToHash();
  paint();
})();
