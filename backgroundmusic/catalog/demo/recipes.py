"""The fixed list of demo tracks: which score, which instruments, which tempo, what metadata.

Every recipe names a public-domain score that ships in music21's corpus (`source`, a corpus
path), gives each part a General MIDI program (`programs`, cycled over the parts), a tempo in
quarter notes per minute that replaces the score's own marks (`bpm`), and how many times the
piece is played (`repeats`; said in the description). `quarter_length` is the score's length in
quarter notes as music21 reads it; the tests check it against the score and the 2-minute minimum
from it, without rendering.

The list only grows: a recipe that changes renders anew (the cache key is a hash of it), and a
catalogue code already in the database is skipped, so edit a published code's sound with care.
"""

from dataclasses import dataclass

from backgroundmusic.catalog.demo import russian

ARRANGER = "MUSWAY STUDIO"
MIN_SECONDS = 120.0


@dataclass(frozen=True)
class Recipe:
    code: str  # catalogue code, BM-0001…
    name: str  # the evocative part of the title
    source: str  # music21 corpus path
    composer: str
    work: str  # the source work, as it is named in the description
    ensemble: str  # "marimba and strings"
    programs: tuple[int, ...]  # General MIDI program (0-127) per part, cycled
    bpm: float  # quarter notes per minute
    quarter_length: float  # the score's length in quarter notes (music21's highestTime)
    genres: tuple[str, ...]  # facet slugs (seed.GENRES)
    moods: tuple[str, ...]  # facet slugs (seed.MOODS)
    energy: int  # 1-10
    tags: tuple[str, ...] = ()
    repeats: int = 1
    velocity: float = 1.0  # scale of the score's note velocities

    @property
    def seconds(self) -> float:
        """How long the arrangement plays, from the score's length and the recipe's tempo."""
        return self.quarter_length * 60.0 / self.bpm * self.repeats

    @property
    def title(self) -> str:
        return f"{self.name} — {self.short_work}, for {self.ensemble}"

    @property
    def short_work(self) -> str:
        return self.work.split(":")[0].split(" (")[0]

    @property
    def title_ru(self) -> str:
        return (
            f"{russian.NAMES[self.name]} — {russian.WORKS[self.short_work]}, "
            f"для {russian.ENSEMBLES[self.ensemble]}"
        )

    @property
    def description_ru(self) -> str:
        movement = self.work.partition(":")[2].strip()
        work = russian.WORKS[self.short_work] + (f": {movement}" if movement else "")
        played = {1: "", 2: " Пьеса звучит дважды, чтобы трек был полной длины."}
        return (
            f"{russian.COMPOSERS[self.composer]}, {work}, аранжировка {ARRANGER} для "
            f"{russian.ENSEMBLES[self.ensemble]}, ♩ = {self.bpm:g}.{played.get(self.repeats, '')} "
            f"Сыграно по общедоступной партитуре из корпуса music21 ({self.source}) через "
            "звуковой банк General MIDI."
        )

    @property
    def tag_pairs(self) -> tuple[tuple[str, str], ...]:
        """The tags as (English, Russian) pairs."""
        return tuple((tag, russian.TAGS[tag]) for tag in self.tags)

    @property
    def description(self) -> str:
        """What a customer reads: the work and the arrangement."""
        played = {1: "", 2: " The piece is played twice through to make a full-length track."}
        return (
            f"{self.composer}, {self.work}, arranged by {ARRANGER} for {self.ensemble} at "
            f"♩ = {self.bpm:g}.{played.get(self.repeats, '')}"
        )

    @property
    def production(self) -> str:
        """How the audio was made, for staff: the track page keeps to the music."""
        programs = ", ".join(str(program) for program in self.programs)
        return (
            f"Rendered from the public-domain score in the music21 corpus ({self.source}) "
            f"through a General MIDI SoundFont (TimGM6mb), General MIDI programs {programs} "
            f"cycled over the parts, velocities ×{self.velocity:g}, "
            f"{self.quarter_length:g} quarter notes at ♩ = {self.bpm:g}"
            f"{', played twice' if self.repeats == 2 else ''}."
        )


# Ensembles: General MIDI programs for four-part (quartet) and five-part (madrigal) scores.
MARIMBA_STRINGS = (12, 48, 48, 42)
PIANO = (0,)
FLUTE_HARP = (73, 46, 46, 46)
BRASS = (56, 60, 57, 58)
ELECTRIC_PIANO = (4, 4, 4, 32)
HARPSICHORD = (6,)
STRING_QUARTET = (40, 40, 41, 42)
WOODWINDS = (73, 68, 71, 70)
HARP_STRINGS = (46, 48, 48, 42)
GUITARS = (24, 24, 25, 32)
VIBES_PADS = (11, 89, 89, 32)
MARIMBA_KALIMBA = (12, 12, 108, 32)
CELESTA_PIZZICATO = (8, 45, 45, 45)
ACCORDION_GUITARS = (21, 24, 24, 32)

M = "Wolfgang Amadeus Mozart"
H = "Joseph Haydn"
B = "Ludwig van Beethoven"
CM = "Claudio Monteverdi"
K155 = "String Quartet No. 2 in D major, K. 155"
K156 = "String Quartet No. 3 in G major, K. 156"
K458 = "String Quartet No. 17 in B♭ major, K. 458 “The Hunt”"
K80 = "String Quartet No. 1 in G major, K. 80 “Lodi”"
OP1 = "String Quartet in B♭ major, Op. 1 No. 1 “La chasse”"
OP74 = "String Quartet in C major, Op. 74 No. 1"
OP18 = "String Quartet No. 1 in F major, Op. 18 No. 1"
BOOK3 = "Third Book of Madrigals (1592)"

RECIPES: tuple[Recipe, ...] = (
    Recipe("BM-0001", "Morning Courtyard", "mozart/k155/movement1.mxl", M, f"{K155}: I. Allegro",
           "marimba and strings", MARIMBA_STRINGS, 160, 476.0, ("classical", "cinematic"),
           ("uplifting", "playful"), 6, ("morning", "bright", "cafe")),
    Recipe("BM-0002", "Quiet Library", "mozart/k155/movement2.mxl", M, f"{K155}: II. Andante",
           "solo piano", PIANO, 60, 150.0, ("classical",), ("calm", "reflective"), 3,
           ("study", "focus")),
    Recipe("BM-0003", "Paper Lanterns", "mozart/k155/movement3.mxl", M,
           f"{K155}: III. Molto allegro", "flute and harps", FLUTE_HARP, 92, 205.66666666666666,
           ("classical", "acoustic"), ("playful", "elegant"), 5, ("spring", "garden")),
    Recipe("BM-0004", "City Sprint", "mozart/k156/movement1.mxl", M, f"{K156}: I. Presto",
           "brass quartet", BRASS, 168, 270.0, ("classical", "cinematic"),
           ("energetic", "festive"), 8, ("sport", "celebration"), repeats=2),
    Recipe("BM-0005", "Rain on the Window", "mozart/k156/movement2.mxl", M, f"{K156}: II. Adagio",
           "electric piano and bass", ELECTRIC_PIANO, 54, 148.0, ("lounge",),
           ("melancholic", "dreamy"), 2, ("rain", "night", "lo-fi")),
    Recipe("BM-0006", "Garden Minuet", "mozart/k156/movement3.mxl", M,
           f"{K156}: III. Tempo di menuetto", "harpsichord", HARPSICHORD, 84, 186.0,
           ("classical",), ("elegant", "calm"), 4, ("period drama", "tea")),
    Recipe("BM-0007", "The Hunt", "mozart/k458/movement1.mxl", M,
           f"{K458}: I. Allegro vivace assai", "string quartet", STRING_QUARTET, 216, 843.5,
           ("classical", "chamber"), ("energetic", "uplifting"), 7, ("outdoors", "adventure")),
    Recipe("BM-0008", "Ballroom Candles", "mozart/k458/movement2.mxl", M,
           f"{K458}: II. Menuetto. Moderato", "woodwind quartet", WOODWINDS, 138, 189.0,
           ("classical", "chamber"), ("elegant", "playful"), 5, ("ballroom", "wedding"),
           repeats=2),
    Recipe("BM-0009", "Evening Harbour", "mozart/k458/movement3.mxl", M, f"{K458}: III. Adagio",
           "harp and strings", HARP_STRINGS, 66, 212.0, ("classical", "cinematic"),
           ("tender", "reflective"), 3, ("sunset", "documentary")),
    Recipe("BM-0010", "Open Road", "mozart/k458/movement4.mxl", M, f"{K458}: IV. Allegro assai",
           "guitars and bass", GUITARS, 176, 673.75, ("acoustic",), ("uplifting", "energetic"),
           7, ("travel", "vlog")),
    Recipe("BM-0011", "Lodi Nocturne", "mozart/k80/movement1.mxl", M, f"{K80}: I. Adagio",
           "vibraphone and pads", VIBES_PADS, 70, 201.0, ("ambient",), ("dreamy", "calm"), 2,
           ("night", "meditation")),
    Recipe("BM-0012", "Sunlit Atrium", "mozart/k80/movement2.mxl", M, f"{K80}: II. Allegro",
           "marimbas and kalimba", MARIMBA_KALIMBA, 144, 336.0, ("acoustic", "corporate"),
           ("playful", "uplifting"), 6, ("technology", "explainer")),
    Recipe("BM-0013", "Drawing Room", "mozart/k80/movement3.mxl", M, f"{K80}: III. Menuetto",
           "celesta and pizzicato strings", CELESTA_PIZZICATO, 116, 156.0, ("classical",),
           ("playful", "elegant"), 4, ("children", "whimsical"), repeats=2),
    Recipe("BM-0014", "Rondeau on the Square", "mozart/k80/movement4.mxl", M,
           f"{K80}: IV. Rondeau", "accordion and guitars", ACCORDION_GUITARS, 112, 272.0,
           ("folk", "acoustic"), ("playful", "festive"), 6, ("street cafe", "market")),
    Recipe("BM-0015", "First Light", "haydn/opus1no1/movement1.mxl", H, f"{OP1}: I. Presto",
           "flute and guitars", (73, 24, 24, 32), 176, 191.0, ("acoustic",),
           ("uplifting", "playful"), 6, ("morning", "spring"), repeats=2),
    Recipe("BM-0016", "Courtly Steps", "haydn/opus1no1/movement2.mxl", H, f"{OP1}: II. Menuetto",
           "harpsichord and strings", (6, 48, 48, 42), 84, 187.0, ("classical",),
           ("elegant",), 4, ("historical", "period drama")),
    Recipe("BM-0017", "Still Water", "haydn/opus1no1/movement3.mxl", H, f"{OP1}: III. Adagio",
           "piano and strings", (0, 48, 48, 42), 56, 170.83333333333334,
           ("classical", "cinematic"), ("tender", "reflective"), 2, ("emotional", "wedding")),
    Recipe("BM-0018", "Second Dance", "haydn/opus1no1/movement4.mxl", H, f"{OP1}: IV. Menuetto",
           "celesta and harps", (8, 46, 46, 46), 58, 132.91666666666666, ("classical",),
           ("dreamy", "tender"), 3, ("lullaby", "children")),
    Recipe("BM-0019", "Chase at Dawn", "haydn/opus1no1/movement5.mxl", H, f"{OP1}: V. Presto",
           "string quartet", STRING_QUARTET, 120, 138.875, ("classical", "chamber"),
           ("energetic", "playful"), 8, ("chase", "comedy"), repeats=2),
    Recipe("BM-0020", "Grand Entrance", "haydn/opus74no1/movement1.mxl", H,
           f"{OP74}: I. Allegro moderato", "brass and strings", (61, 48, 48, 58), 168, 620.0,
           ("cinematic", "classical"), ("festive", "uplifting"), 7,
           ("ceremony", "awards", "trailer")),
    Recipe("BM-0021", "Slow Afternoon", "haydn/opus74no1/movement2.mxl", H,
           f"{OP74}: II. Andantino grazioso", "flute and nylon guitars", (73, 24, 24, 24), 96,
           261.0, ("acoustic", "lounge"), ("calm", "tender"), 3, ("cafe", "summer")),
    Recipe("BM-0022", "Clockwork Waltz", "haydn/opus74no1/movement3.mxl", H,
           f"{OP74}: III. Menuetto. Allegro", "celesta, marimba and vibraphone",
           (8, 12, 11, 32), 144, 339.25, ("classical",), ("playful", "mysterious"), 5,
           ("clockwork", "toys", "animation")),
    Recipe("BM-0023", "Finale Fireworks", "haydn/opus74no1/movement4.mxl", H,
           f"{OP74}: IV. Finale. Vivace", "church organ", (19,), 168, 570.0, ("classical",),
           ("festive", "energetic"), 8, ("celebration", "new year")),
    Recipe("BM-0024", "Brave New Morning", "beethoven/opus18no1/movement1.mxl", B,
           f"{OP18}: I. Allegro con brio", "horn and strings", (60, 48, 48, 42), 224, 939.25,
           ("cinematic",), ("dramatic", "uplifting"), 8, ("epic", "trailer", "sport")),
    Recipe("BM-0025", "Tomb Scene", "beethoven/opus18no1/movement2.mxl", B,
           f"{OP18}: II. Adagio affettuoso ed appassionato", "cello and strings",
           (42, 48, 48, 42), 126, 494.75, ("cinematic", "classical"), ("melancholic", "dramatic"),
           3, ("sad", "drama", "documentary")),
    Recipe("BM-0026", "Spinning Top", "beethoven/opus18no1/movement3.mxl", B,
           f"{OP18}: III. Scherzo. Allegro molto", "xylophone and pizzicato strings",
           (13, 45, 45, 45), 184, 435.0, ("classical",), ("playful", "energetic"), 7,
           ("comedy", "cartoon")),
    Recipe("BM-0027", "Russian Theme", "beethoven/opus59no2/movement3.mxl", B,
           "String Quartet No. 8 in E minor, Op. 59 No. 2 “Razumovsky”: III. Allegretto",
           "accordion and steel guitars", (21, 25, 25, 32), 152, 423.0833333333333, ("folk",),
           ("playful", "mysterious"), 6, ("winter", "folk tale")),
    Recipe("BM-0028", "Wandering Cello", "beethoven/opus59no3/movement2.mxl", B,
           "String Quartet No. 9 in C major, Op. 59 No. 3 “Razumovsky”: "
           "II. Andante con moto quasi allegretto", "clarinet, harp and cellos",
           (71, 46, 42, 42), 160, 624.0, ("cinematic",), ("melancholic", "mysterious"), 4,
           ("noir", "autumn", "travel")),
    Recipe("BM-0029", "Gracious Company", "beethoven/opus59no3/movement3.mxl", B,
           "String Quartet No. 9 in C major, Op. 59 No. 3 “Razumovsky”: III. Menuetto grazioso",
           "electric piano and vibraphones", (4, 11, 11, 32), 104, 288.0, ("lounge",),
           ("elegant", "calm"), 4, ("hotel lobby", "cocktail")),
    Recipe("BM-0030", "Linden Tree", "schubert/Lindenbaum.xml", "Franz Schubert",
           "“Der Lindenbaum” from Winterreise, D. 911 (the voice line on the cello)",
           "cello and piano", (42, 0, 0), 84, 246.0, ("classical", "romantic"),
           ("tender", "melancholic"), 3, ("winter", "nostalgia")),
    Recipe("BM-0031", "Let Me Weep", "handel/rinaldo/Lascia_chio_pianga.mxl",
           "George Frideric Handel",
           "“Lascia ch'io pianga” from Rinaldo, HWV 7 (the aria's melody on the oboe)",
           "oboe and harpsichord", (68, 6, 6), 62, 174.0, ("baroque",),
           ("melancholic", "tender"), 2, ("emotional", "period drama")),
    Recipe("BM-0032", "Maple Leaf Parlour", "joplin/maple_leaf_rag.mxl", "Scott Joplin",
           "Maple Leaf Rag (1899)", "honky-tonk piano", (3,), 76, 168.5, ("ragtime",),
           ("playful", "festive"), 7, ("vintage", "silent film", "comedy")),
    Recipe("BM-0033", "Northern Sonata", "cpebach/h186.mxl", "Carl Philipp Emanuel Bach",
           "keyboard piece in F♯ minor, H. 186", "harps", (46,), 88, 128.0, ("baroque",),
           ("mysterious", "reflective"), 4, ("fantasy",), repeats=2),
    Recipe("BM-0034", "Cloister Gloria", "luca/gloria.xml", "D. Luca",
           "Gloria for three voices (the voices on recorders and bassoon)",
           "recorders and bassoon", (74, 74, 70), 116, 326.0, ("early-music",),
           ("calm", "reflective"), 3, ("medieval", "meditation")),
    Recipe("BM-0035", "Young Plant", "monteverdi/madrigal.3.1.mxl", CM,
           f"“La giovinetta pianta”, madrigal No. 1 of the {BOOK3}", "flutes and reeds",
           (73, 74, 74, 71, 70), 150, 408.0, ("early-music",), ("tender", "calm"), 3,
           ("pastoral", "spring")),
    Recipe("BM-0036", "Sorrowful Parting", "monteverdi/madrigal.4.1.mxl", CM,
           "“Ah, dolente partita”, madrigal No. 1 of the Fourth Book of Madrigals (1603)",
           "strings", (48, 48, 48, 48, 42), 176, 584.0, ("early-music", "cinematic"),
           ("melancholic", "dramatic"), 4, ("farewell",)),
    Recipe("BM-0037", "Venetian Brass", "monteverdi/madrigal.3.6.mxl", CM,
           f"madrigal No. 6 of the {BOOK3}", "brass choir", (56, 56, 60, 57, 58), 176, 492.0,
           ("early-music", "cinematic"), ("festive", "elegant"), 6, ("ceremony", "cathedral")),
    Recipe("BM-0038", "Chapel Light", "monteverdi/madrigal.3.12.mxl", CM,
           f"madrigal No. 12 of the {BOOK3}", "church organ", (19,), 168, 476.0,
           ("early-music",), ("calm", "reflective"), 3, ("church", "meditation")),
    Recipe("BM-0039", "Lute Garden", "monteverdi/madrigal.3.4.mxl", CM,
           f"madrigal No. 4 of the {BOOK3}", "guitars", (24, 24, 25, 25, 32), 168, 452.0,
           ("early-music", "acoustic"), ("calm", "tender"), 3, ("garden", "picnic")),
    Recipe("BM-0040", "Distant Voices", "monteverdi/madrigal.3.13.mxl", CM,
           f"madrigal No. 13 of the {BOOK3}", "synth pads", (89, 89, 88, 88, 32), 160, 428.0,
           ("ambient",), ("dreamy", "mysterious"), 2, ("space", "meditation")),
    Recipe("BM-0041", "Glass Madrigal", "monteverdi/madrigal.3.5.mxl", CM,
           f"madrigal No. 5 of the {BOOK3}", "marimbas and vibraphones", (12, 11, 12, 11, 32),
           160, 424.0, ("ambient",), ("dreamy", "calm"), 3, ("focus", "spa")),
    Recipe("BM-0042", "Arcadian Winds", "monteverdi/madrigal.3.2.mxl", CM,
           f"madrigal No. 2 of the {BOOK3}", "woodwind quintet", (73, 68, 71, 71, 70), 144,
           388.0, ("early-music",), ("elegant", "tender"), 4, ("pastoral", "countryside")),
)  # fmt: skip

_BY_CODE = {recipe.code: recipe for recipe in RECIPES}


def recipe_by_code(code: str) -> Recipe | None:
    """The demo recipe of a catalogue code; None for a track that is not a demo one."""
    return _BY_CODE.get(code)
