"""Serving the static page (web_demo/) and bundles: the one static server and the one page locator."""
