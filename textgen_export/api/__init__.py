"""The Python API: TextGen, and the textgenrnn drop-in (compat) with its training methods and text vectors."""
