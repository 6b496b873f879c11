"""The scenario-matcher service: a thin FastAPI adapter over :mod:`matcher` with persistence.

Layers: ``config`` (settings), ``models``/``db`` (SQLAlchemy tables and sessions), ``store``
(reads and writes in one transaction), ``index`` (the engine kept in step with the database),
``auth`` (API keys and roles), ``errors`` (domain errors to HTTP in one place), ``routes/``
(one router per resource) and ``app`` (the application factory).
"""
