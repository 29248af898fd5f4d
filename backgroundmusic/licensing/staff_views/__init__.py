"""Licensing's pages under /staff/licensing/, one module per area."""
