"""The privacy kernel: the data-map registry, sealed fields and their keys, the staff access log
and pseudonyms. It imports only core, Django and libraries, so every app may use it; the privacy
center (the rest of this package) stands above accounts (docs/architecture.md)."""
