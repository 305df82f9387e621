"""Reports: scores aggregated in SQL, the weekly summary texts, run charts and exports.

Everything here reads the answers tables through SQLAlchemy and formats plain rows; no
Flask, no Redis, no providers.
"""
