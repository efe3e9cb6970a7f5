"""Secondary indexes of the registry tables, created after a bulk load (loading
10 million rows into indexed tables is several times slower).

The lookup by name (F-2) matches on the *lenient* key: the stored exact key as the
ID card's machine-readable zone writes it (``names.lenient_key``), computed by
PostgreSQL in an expression index. A query uses the index only if it spells the
expression exactly so: use :data:`LENIENT_KEY`.
"""
from .names import MRZ_FROM, MRZ_TO

LENIENT_KEY = f"translate(name_key, '{MRZ_FROM}', '{MRZ_TO}')"

INDEXES = (
    "CREATE INDEX IF NOT EXISTS persons_name_key_idx ON persons (name_key)",
    f"CREATE INDEX IF NOT EXISTS persons_name_mrz_idx ON persons (({LENIENT_KEY}))",
    "CREATE INDEX IF NOT EXISTS id_documents_fin_idx ON id_documents (fin)",
)


def create_indexes(conn):
    """Create the lookup indexes of ``persons`` (after a bulk load: faster than keeping them
    during it)."""
    for statement in INDEXES:
        conn.execute(statement)


def drop_indexes(conn):
    """Drop the lookup indexes of ``persons`` (before a bulk load)."""
    conn.execute("DROP INDEX IF EXISTS persons_name_key_idx")
    conn.execute("DROP INDEX IF EXISTS persons_name_lenient_idx")
    conn.execute("DROP INDEX IF EXISTS persons_name_mrz_idx")
    conn.execute("DROP INDEX IF EXISTS id_documents_fin_idx")
