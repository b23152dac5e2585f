"""Models of the online booking (see rdv/online/__init__.py)."""
