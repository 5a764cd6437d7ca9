"""Coding studies in the app: a draft study edited in forms, checked by the project's own validation,
saved as the same ``studies/<id>.yaml`` a careful researcher would write by hand (layout and comments
of an edited file kept); guided risk of bias (RoB 2, ROBINS-I) with its plots; double coding and
reconciliation of two independent codings.

Modules: ``form`` (widget state <-> study dict), ``draft`` (start a study, check it, preview effect
sizes), ``yamlio`` (round-trip YAML), ``rob`` and ``robplot`` (risk of bias), ``reconcile`` (two
codings -> disagreements, agreement, kappa, the reconciled file), ``rules`` (validation rules this
package adds to ``evidence validate``). Kept light on import: the validation rules import it.
"""

#: Where a second coder's independent file lives, relative to the studies directory:
#: ``second-coding/<id>.<coder>.yaml`` (not a study file: the build and validation skip the folder).
SECOND_CODING_DIR = "second-coding"
