"""Style sheet and icon, installed as ``replayterm.resources`` and read through importlib.resources."""
