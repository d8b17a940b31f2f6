"""Shared test helpers, imported one way: `from support.<module> import ...` (pytest puts tests/ on sys.path)."""
