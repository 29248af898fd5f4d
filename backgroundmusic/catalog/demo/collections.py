"""The demo catalogue's curated collections: a few sets of the demo tracks for a purpose, in both
languages, made through the catalogue services like a content manager's.

`collections_ensure` is idempotent: a collection is made once, when every track it lists is in
the catalogue (a `seed_catalog --limit` run makes the ones it can; a later full run the rest),
and a collection already there (by its address) is left as staff may have edited it.
"""

from dataclasses import dataclass

from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.models import Collection, Track


@dataclass(frozen=True)
class CollectionSpec:
    slug: str
    title: str
    title_ru: str
    description: str
    description_ru: str
    codes: tuple[str, ...]  # catalogue codes, in the order the collection plays them
    featured: bool = False


COLLECTIONS: tuple[CollectionSpec, ...] = (
    CollectionSpec(
        slug="cafe-mornings",
        title="Café mornings",
        title_ru="Утро в кафе",
        description="Bright, unhurried tracks for a café or a shop opening its doors: "
        "marimbas, guitars, flutes and an accordion.",
        description_ru="Светлая неторопливая музыка для кафе или магазина в начале дня: "
        "маримбы, гитары, флейты и аккордеон.",
        codes=("BM-0001", "BM-0015", "BM-0003", "BM-0021", "BM-0014", "BM-0012", "BM-0029"),
        featured=True,
    ),
    CollectionSpec(
        slug="focus-and-study",
        title="Focus and study",
        title_ru="Для работы и учёбы",
        description="Calm, even music that stays in the background: for studying, working "
        "and explainer videos.",
        description_ru="Спокойная ровная музыка, которая остаётся фоном: для учёбы, работы "
        "и обучающих видео.",
        codes=("BM-0002", "BM-0011", "BM-0041", "BM-0034", "BM-0038", "BM-0005"),
        featured=True,
    ),
    CollectionSpec(
        slug="big-moments",
        title="Big moments",
        title_ru="Торжественные моменты",
        description="Brass, organ and strings for ceremonies, awards, trailers and the end of "
        "a match.",
        description_ru="Медь, орган и струнные для церемоний, награждений, трейлеров "
        "и финала матча.",
        codes=("BM-0020", "BM-0024", "BM-0004", "BM-0023", "BM-0037", "BM-0007"),
        featured=True,
    ),
    CollectionSpec(
        slug="playful-and-light",
        title="Playful and light",
        title_ru="Игриво и легко",
        description="Celesta, xylophone and pizzicato strings for animation, comedy and "
        "children's stories.",
        description_ru="Челеста, ксилофон и струнные пиццикато для анимации, комедии "
        "и детских историй.",
        codes=("BM-0013", "BM-0022", "BM-0026", "BM-0032", "BM-0019", "BM-0018"),
        featured=True,
    ),
    CollectionSpec(
        slug="quiet-evenings",
        title="Quiet evenings",
        title_ru="Тихий вечер",
        description="Tender and melancholic tracks for a hotel lobby late at night, a "
        "documentary or a farewell.",
        description_ru="Нежная и меланхоличная музыка для вечернего лобби отеля, "
        "документального фильма или прощания.",
        codes=("BM-0009", "BM-0017", "BM-0030", "BM-0031", "BM-0005", "BM-0040", "BM-0033"),
    ),
    CollectionSpec(
        slug="period-drama",
        title="Period drama",
        title_ru="Старинные времена",
        description="Harpsichords, recorders and woodwinds for historical films, costume "
        "dramas and museums.",
        description_ru="Клавесин, блокфлейты и деревянные духовые для исторических фильмов, "
        "костюмных драм и музеев.",
        codes=("BM-0006", "BM-0016", "BM-0008", "BM-0042", "BM-0034", "BM-0031"),
    ),
)


def collections_ensure(specs: tuple[CollectionSpec, ...] | None = None) -> list[str]:
    """Makes the published collections of `specs` (COLLECTIONS by default) that are missing and
    whose tracks are all in the catalogue; returns the addresses of the ones made."""
    specs = COLLECTIONS if specs is None else specs
    present = set(
        Collection.objects.filter(slug__in=[spec.slug for spec in specs]).values_list(
            "slug", flat=True
        )
    )
    wanted = [spec for spec in specs if spec.slug not in present]
    codes = {code for spec in wanted for code in spec.codes}
    tracks = dict(
        Track.objects.filter(catalogue_code__in=codes).values_list("catalogue_code", "pk")
    )
    made = []
    for spec in wanted:
        if not all(code in tracks for code in spec.codes):
            continue
        catalogue.collection_create(
            actor=None,
            kind=Collection.Kind.CURATED,
            title=spec.title,
            title_ru=spec.title_ru,
            slug=spec.slug,
            description=spec.description,
            description_ru=spec.description_ru,
            is_published=True,
            is_featured=spec.featured,
            track_ids=[tracks[code] for code in spec.codes],
        )
        made.append(spec.slug)
    return made
