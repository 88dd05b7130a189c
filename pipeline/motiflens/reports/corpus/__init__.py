"""The corpus page `<run>/report.html`: `data` reads a run's tables into plain numbers, `charts` draws inline SVG,
`page` lays out the HTML (its JavaScript and CSS are reports/assets/corpus_page.*)."""
