"""Licensing's public pages, one module per area (as the privacy center's views/)."""
