"""Rendering an Analysis: rich table, JSON, markdown, CSV, worked formulas."""
