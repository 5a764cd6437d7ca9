"""Evidence synthesis on child labour: study files -> catalogue -> meta-analysis -> views.

The package is organised along the data flow:
``evidence.ingest`` (files -> records), ``evidence.catalog`` (records -> SQLite/SQLModel),
``evidence.meta`` (effects -> pooled answers), ``evidence.summary`` and ``app.py`` (views).
"""

__version__ = "0.1.0"
