"""Coding studies in the app: a draft study edited in forms, checked by the project's own validation,
saved as the same ``studies/<id>.yaml`` a careful researcher would write by hand (layout and comments
of an edited file kept); guided risk of bias (RoB 2, ROBINS-I) with its plots; double coding and
reconciliation of two independent codings.

Modules: ``form`` (widget state <-> study dict), ``draft`` (start a study, check it, preview effect
sizes), ``yamlio`` (round-trip YAML), ``robplot`` (robvis-style plots; the RoB 2 / ROBINS-I questions and
algorithms are ``evidence.rob``, upstream, because validation uses them too), ``reconcile`` (two codings
-> disagreements, agreement, kappa, the reconciled file), ``review`` (what a change introduces, for CI).
Stage: after ingest and the catalogue (it validates drafts and previews what the build derives).
"""
