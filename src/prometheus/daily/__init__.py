"""The daily run: build only what new upstream data changed (``prometheus daily``)."""
