"""Bundled reference tables (CSV with a source per row) and the Natural Earth outline of Europe."""
