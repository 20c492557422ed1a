"""Sources other than Tardis CSV/Parquet files: ``raw`` recordings of exchange feeds."""
