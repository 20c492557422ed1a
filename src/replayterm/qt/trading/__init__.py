"""Trading by hand in the replay (the ``manual`` strategy driven from the ladder and buttons)."""
