"""Headless subcommands of the ``replayterm`` CLI, one module each (see ``replayterm.cli``)."""
