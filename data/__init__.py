"""The bundled sample market (synthetic Tardis CSV files), installed as ``replayterm.data``.

See README.md here; read the files through ``replayterm.resources_access`` (importlib.resources).
"""
