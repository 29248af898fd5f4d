"""The demo catalogue: public-domain scores from music21's corpus, arranged and rendered on this
machine, fed through the ingest pipeline (`manage.py seed_catalog`, docs/decisions/0009)."""
