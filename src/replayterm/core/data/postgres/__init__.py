"""PostgreSQL (and TimescaleDB) as a data source and an export target.

``query.DatabaseQuery`` parses a source URL ``postgresql://…?table=…&symbol=…&from=…&to=…``;
``reader.PostgresReader`` streams its rows as Arrow batches into the same cache and index as a
file; ``writer`` writes opened sources back as Tardis-shaped tables with COPY. The driver is ADBC's
PostgreSQL driver (``pip install 'replayterm[db]'``); ``connect`` says how to get it when missing.
"""

from replayterm.core.data.postgres.query import DatabaseQuery, is_database_url, is_query_path

__all__ = ["DatabaseQuery", "is_database_url", "is_query_path"]
