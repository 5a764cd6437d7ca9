"""The project's small exception hierarchy.

Every error a user can cause derives from :class:`EvidenceError`, so the CLI can print it without a
traceback. Validation problems are *collected* (see ``evidence.ingest.problems``) rather than raised
one by one; :class:`ValidationFailed` carries the whole list.
"""

from __future__ import annotations


class EvidenceError(Exception):
    """Base class for errors the user can act on (bad input, missing catalogue, bad model spec)."""


class ValidationFailed(EvidenceError):
    """One or more study files (or sheet rows) have problems; ``problems`` holds all of them."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class BuildError(EvidenceError):
    """The catalogue could not be built; the previous catalogue is left untouched."""


class CatalogError(EvidenceError):
    """The catalogue is missing, out of date or cannot be read."""


class EffectSizeError(EvidenceError):
    """An effect size cannot be computed from what was reported."""


class MetaAnalysisError(EvidenceError):
    """A meta-analysis cannot be run on the given data or specification."""


class InvalidEffectsError(MetaAnalysisError):
    """The effects given to a meta-analysis (yi, vi, labels) are unusable: every engine checks them
    with ``evidence.meta.inputs.check_effects``, so the message is the same whichever engine runs."""


class ExportError(EvidenceError):
    """An evidence summary could not be produced."""


class UnknownTermError(EvidenceError):
    """A filter or selection names a term no study can have (a typo would silently match nothing)."""
