(function () {
  'use strict';
  // The numbers behind every chart, for anyone who opens the console: window.motiflensCorpus.
  window.motiflensCorpus = JSON.parse(document.getElementById('corpus-data').textContent);
  function value(cell) {
    var raw = cell.getAttribute('data-sort');
    if (raw === null) return {n: null, s: ''};
    var n = Number(raw);
    return raw !== '' && Number.isFinite(n) ? {n: n, s: raw} : {n: null, s: raw};
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.querySelectorAll('thead th');
    Array.prototype.forEach.call(heads, function (th, column) {
      th.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = value(a.cells[column]), y = value(b.cells[column]);
          var order = (x.n !== null && y.n !== null) ? x.n - y.n : x.s.localeCompare(y.s);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
