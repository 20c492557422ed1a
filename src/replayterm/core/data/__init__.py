"""Readers: Tardis CSV, Parquet and Arrow files -> columnar tables, with an Arrow IPC cache."""
