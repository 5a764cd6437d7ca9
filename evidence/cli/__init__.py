"""The ``evidence`` command line: one module per area, wired in ``main``."""
