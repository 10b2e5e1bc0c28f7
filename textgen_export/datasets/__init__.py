"""Example corpora harvested at run time from what is already installed (nothing downloaded, nothing committed)."""
