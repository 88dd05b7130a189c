"""Outputs people read and tools import: per-video and corpus HTML pages, ELAN and Label Studio files."""
