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
    # 2: sync status per record pair, cursors, conflicts, record errors, records kept apart
    # after an unlink, create intents (crash recovery), run history
    """
    CREATE TABLE sync_pairs (
        module TEXT NOT NULL, crm_id TEXT NOT NULL, desk_id TEXT NOT NULL,
        crm_fp TEXT NOT NULL, desk_fp TEXT NOT NULL,
        crm_modified TEXT NOT NULL, desk_modified TEXT NOT NULL, synced_at TEXT NOT NULL,
        PRIMARY KEY (module, crm_id), UNIQUE (module, desk_id));
    CREATE TABLE sync_cursors (
        module TEXT NOT NULL, side TEXT NOT NULL, cursor TEXT NOT NULL,
        PRIMARY KEY (module, side));
    CREATE TABLE sync_conflicts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, module TEXT NOT NULL, crm_id TEXT NOT NULL,
        desk_id TEXT NOT NULL, crm_values TEXT NOT NULL, desk_values TEXT NOT NULL,
        detected_at TEXT NOT NULL, UNIQUE (module, crm_id));
    CREATE TABLE sync_errors (
        module TEXT NOT NULL, side TEXT NOT NULL, record_id TEXT NOT NULL,
        message TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (module, side, record_id));
    CREATE TABLE sync_unlinked (
        module TEXT NOT NULL, side TEXT NOT NULL, record_id TEXT NOT NULL,
        PRIMARY KEY (module, side, record_id));
    CREATE TABLE sync_intents (
        module TEXT NOT NULL, side TEXT NOT NULL, record_id TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (module, side, record_id));
    CREATE TABLE sync_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT,
        outcome TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '{}')
    """,
    # 3: signals already delivered by `signals watch`
    """
    CREATE TABLE signals_seen (id TEXT PRIMARY KEY, delivered_at TEXT NOT NULL)
    """,
    # 4: field-level sync. A pair's base: the canonical values both sides agreed on (NULL
    # for pairs made before this version: set from current values when next read). A
    # side's held values: what it holds while it still owes a write (crash-atomic links).
    # Conflicts name their fields; intents keep the payload and its match keys; errors
    # keep the match key of an ambiguous match.
    """
    ALTER TABLE sync_pairs ADD COLUMN base TEXT;
    ALTER TABLE sync_pairs ADD COLUMN crm_held TEXT;
    ALTER TABLE sync_pairs ADD COLUMN desk_held TEXT;
    ALTER TABLE sync_conflicts ADD COLUMN fields TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE sync_intents ADD COLUMN payload TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE sync_intents ADD COLUMN match_keys TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE sync_intents ADD COLUMN fp TEXT NOT NULL DEFAULT '';
    ALTER TABLE sync_errors ADD COLUMN kind TEXT NOT NULL DEFAULT 'write';
    ALTER TABLE sync_errors ADD COLUMN match_key TEXT NOT NULL DEFAULT ''
    """,
    # 5: records left out of the sync by hand (`sync ignore`), with the counterpart a
    # paired one was unpaired from (taken back with it by `sync ignore --undo`)
    """
    CREATE TABLE sync_ignored (
        module TEXT NOT NULL, side TEXT NOT NULL, record_id TEXT NOT NULL,
        partner TEXT NOT NULL DEFAULT '', ignored_at TEXT NOT NULL, ignored_by TEXT NOT NULL,
        PRIMARY KEY (module, side, record_id))
    """,
    # 6: Account pairs forgotten (a deletion, `sync ignore`): the two accounts that were one,
    # so a contact still pointing to either reads as the same account as its base (not as
    # an edit). Before this version only `sync ignore` kept the counterpart's id.
    """
    CREATE TABLE sync_former_pairs (
        module TEXT NOT NULL, crm_id TEXT NOT NULL, desk_id TEXT NOT NULL,
        PRIMARY KEY (module, crm_id), UNIQUE (module, desk_id));
    INSERT INTO sync_former_pairs (module, crm_id, desk_id)
        SELECT module, CASE side WHEN 'crm' THEN record_id ELSE partner END,
               CASE side WHEN 'crm' THEN partner ELSE record_id END
        FROM sync_ignored WHERE module = 'Accounts' AND partner <> ''
        ON CONFLICT DO NOTHING
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

# Columns holding JSON text (TEXT in both databases, so neither checks it; NULL allowed
# where the column is nullable). `state check` decodes every cell of these: add a column
# here when a migration adds one that holds JSON.
JSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "settings": ("value",),
    "audit": ("details",),
    "sync_pairs": ("base", "crm_held", "desk_held"),
    "sync_conflicts": ("crm_values", "desk_values", "fields"),
    "sync_intents": ("payload", "match_keys"),
    "sync_runs": ("summary",),
}
