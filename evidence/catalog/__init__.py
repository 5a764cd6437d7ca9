"""The catalogue: study files -> normalised tables (``models``), built by ``build`` and read only
through ``queries`` (the one place that knows the joins the app, CLI and exports share)."""
