"""Spec language: YAML with positions -> pydantic layer models."""
