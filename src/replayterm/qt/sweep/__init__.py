"""Strategy ▸ Sweep…: set up a parameter sweep over the open data, run it in background
processes, and read the results as a sortable table and a heatmap."""
