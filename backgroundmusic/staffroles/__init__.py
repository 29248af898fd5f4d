"""Staff roles and the staff_may_* predicates: a floor below every app (docs/architecture.md).

It needs only Django's groups and permissions and allauth's two-factor state; no app of ours is
imported here, so every app may ask who may do what.
"""
