"""The investor pack and the experiment readout: one self-contained HTML page each.

``figures`` and ``readout`` are pure (literal rows in, figures and refusals
out); ``warehouse`` reads the DuckDB file and the build's artifacts; ``page``
renders and writes the HTML; ``pack_cli`` and ``readout_cli`` are the commands.
"""
