"""What the scale stack's seed makes and the journeys and the load test look for: the tracks'
titles and facets, and the member accounts' logins (no Django here: locust imports it)."""

# Title, genre, mood, instrument, the chord's root in Hz; one per track, repeated with a number.
TRACKS = [
    ("Harbour Lights", "ambient", "calm", "piano", 220.0),
    ("Copper Morning", "acoustic", "uplifting", "guitar", 246.9),
    ("Night Tram", "lounge", "dreamy", "electric-piano", 261.6),
    ("Quiet Orchard", "folk", "tender", "violin", 293.7),
]
MEMBER_PASSWORD = "scale-member-violet-2026"
# The subject of the newsletter the load test sends while it kills a worker.
CAMPAIGN_SUBJECT = "Scale stack news"


def member_username(number: int) -> str:
    return f"member{number:04d}"


def reader_username(number: int) -> str:
    return f"reader{number:05d}"
