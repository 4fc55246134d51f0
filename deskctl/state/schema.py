"""State file schema, one migration per version. Append new migrations; never edit old ones."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: settings (JSON values), the audit log
    """
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '', details TEXT NOT NULL DEFAULT '{}'
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
