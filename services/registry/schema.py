"""Secondary indexes of the registry tables, created after a bulk load (loading
10 million rows into indexed tables is several times slower)."""

INDEXES = (
    "CREATE INDEX IF NOT EXISTS persons_name_key_idx ON persons (name_key)",
    "CREATE INDEX IF NOT EXISTS id_documents_fin_idx ON id_documents (fin)",
)


def create_indexes(conn):
    for statement in INDEXES:
        conn.execute(statement)


def drop_indexes(conn):
    conn.execute("DROP INDEX IF EXISTS persons_name_key_idx")
    conn.execute("DROP INDEX IF EXISTS id_documents_fin_idx")
