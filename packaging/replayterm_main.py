"""Entry script of the frozen app (PyInstaller): the same ``replayterm`` command as pip installs."""

import multiprocessing

from replayterm.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
