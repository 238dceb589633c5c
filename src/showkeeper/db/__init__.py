"""Database: engine and sessions (db/engine.py), ORM models (db/models.py), migrations."""

from showkeeper.db.engine import Database, DatabaseError

__all__ = ["Database", "DatabaseError"]
