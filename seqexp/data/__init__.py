"""Data sources (registry ``data``), sequence building and splits."""
