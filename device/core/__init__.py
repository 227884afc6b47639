"""The pure core: numpy in, values out. No files, no clocks, no hardware."""
