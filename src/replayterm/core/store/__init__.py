"""What ReplayTerm keeps on disk beside the user's data: derived index arrays, the inter-process
locks that let one process build an entry while others wait and map it, and the disk-space
reservation that turns a full disk into an error instead of a crash.

- ``arrays``: an index (a folder of ``.npy`` files plus a manifest) built in a private folder and
  renamed into place; ``open_index`` maps a committed one.
- ``locks``: one ``filelock`` per cache entry or index folder; the holder is the only writer, so
  leftovers of a killed build are removed by the next holder instead of guessed from their age.
- ``space``: ``reserve`` allocates a file's blocks (``posix_fallocate`` where the OS has it, a
  free-space check elsewhere).
"""
