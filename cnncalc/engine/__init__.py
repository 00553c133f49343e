"""Propagation engine: shapes, parameters, MACs for every layer."""
