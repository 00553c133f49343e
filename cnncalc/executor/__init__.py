"""The NumPy reference executor: a real forward pass that proves the engine's shapes.

Importing this package imports NumPy; nothing on the `cnncalc table` path imports it.
"""
