"""Search terms: what a track's text and a visitor's query are reduced to before they meet
(docs/decisions/0037-search-engine.md).

Plain Python, no database, so SQLite and PostgreSQL match exactly the same terms. A word (a run
of letters, or of digits, of any script) gives up to two terms:
- the word itself and its Snowball stem (English for Latin words, Russian for Cyrillic ones), so
  "waltzes" meets "waltz" and "вальсы" meets "вальс";
- each written in one Latin "sound" spelling: Cyrillic transliterated, then spellings that sound
  alike folded together (z, ts and tz → s; w → v; y and j → i; doubled letters once …), so
  "моцарт", "Mozart" and "mozzart" are all "mosart", and "Чайковский" meets "chaikovsky".

Typo tolerance works on these terms: a query term of MIN_FUZZY characters or more also matches
the catalogue's terms at Damerau-Levenshtein distance 1, found through their one-letter
deletions (`deletions`, kept in catalog.SearchTermVariant), and one of MIN_PREFIX or more the
terms it begins. Nothing else of a query is searched for: its other characters (%, _, \\, quotes,
operators) are never wildcards or syntax. A typo is also looked for in the word's spelling before
folding (`typo_spellings`), as folding can make a one-letter typo two edits.

A track's genres, moods and instruments are terms too (`facet_term`: "g12", "m3", "i7"), kept
apart from its words (Track.search_facets), so facet filters and counts read one column of the
track instead of joining the relation tables. No query word makes one: words split letters from
digits.
"""

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

MIN_PREFIX = 3
MIN_FUZZY = 4
MAX_QUERY_WORDS = 12
MAX_TERM_LENGTH = 60
FACET_TERM_LETTERS = {"genres": "g", "moods": "m", "instruments": "i"}

_WORD = re.compile(r"[^\W\d_]+|\d+")
_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")
_STEMMERS = {
    "english": snowballstemmer.stemmer("english"),
    "russian": snowballstemmer.stemmer("russian"),
}
_TRANSLITERATION = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "i",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "і": "i",
        "ї": "i",
        "є": "e",
        "ў": "u",
    }
)
# In order: longer spellings first, so "tch" is folded before "ch" could be read as c + h.
_FOLDS = (
    (re.compile(r"shch|sch"), "sh"),
    (re.compile(r"tch"), "ch"),
    (re.compile(r"dzh|zh"), "j"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck|q"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"w"), "v"),
    (re.compile(r"tz|ts|z"), "s"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"c(?!h)"), "k"),
    (re.compile(r"[yj]"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),
)


def words(text: str) -> list[str]:
    """The words of `text`: runs of letters or of digits, lower-cased, accents and ё dropped."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ё", "е"))
    # NFKD splits й into и + a breve; the breve is part of the letter, keep it.
    plain = "".join(
        char for char in decomposed if not unicodedata.combining(char) or char == "\u0306"
    )
    return _WORD.findall(unicodedata.normalize("NFC", plain))


def _stem(word: str) -> str:
    if _CYRILLIC.search(word):
        return str(_STEMMERS["russian"].stemWord(word))
    if _LATIN.search(word):
        return str(_STEMMERS["english"].stemWord(word))
    return word


def _sound(word: str) -> str:
    latin = _spelling(word)
    for pattern, replacement in _FOLDS:
        latin = pattern.sub(replacement, latin)
    return latin[:MAX_TERM_LENGTH]


def _spelling(word: str) -> str:
    return word.translate(_TRANSLITERATION)


@lru_cache(maxsize=65_536)
def word_terms(word: str) -> tuple[str, ...]:
    """The terms of one word (from `words`): its sound spelling, then its stem's when that
    differs."""
    terms = dict.fromkeys(term for term in (_sound(word), _sound(_stem(word))) if term)
    return tuple(terms)


def typo_spellings(word: str) -> tuple[str, ...]:
    """The spellings of one query word whose neighbours one edit away it matches: its terms, and
    the word itself transliterated but not folded. Folding can turn a one-letter typo into two
    edits ("harpsicord" folds to "harpsikord", two edits from the term "harpsichord"), while
    the typed spelling is one edit away."""
    return tuple(dict.fromkeys((*word_terms(word), _spelling(word)[:MAX_TERM_LENGTH])))


def facet_term(relation: str, facet_id: int) -> str:
    """The term of a genre, mood or instrument (`relation` "genres", "moods", "instruments")."""
    return f"{FACET_TERM_LETTERS[relation]}{facet_id}"


def text_terms(*texts: str, each_once: bool = True) -> list[str]:
    """The terms of all `texts` in order: each once, or (not `each_once`) as often as their
    words occur."""
    terms = [term for text in texts for word in words(text) for term in word_terms(word)]
    return list(dict.fromkeys(terms)) if each_once else terms


def deletions(term: str) -> set[str]:
    """`term` and every spelling of it with one letter left out."""
    return {term} | {term[:index] + term[index + 1 :] for index in range(len(term))}


def within_one_edit(first: str, second: str) -> bool:
    """Whether one substitution, insertion, deletion or swap of neighbours turns `first` into
    `second` (or they are equal)."""
    if first == second:
        return True
    if abs(len(first) - len(second)) > 1:
        return False
    if len(first) > len(second):
        first, second = second, first
    start = 0
    while start < len(first) and first[start] == second[start]:
        start += 1
    if len(first) < len(second):
        return first[start:] == second[start + 1 :]
    if first[start + 1 :] == second[start + 1 :]:
        return True
    swapped = start + 1 < len(first) and first[start] == second[start + 1]
    rest_equal = first[start + 2 :] == second[start + 2 :]
    return swapped and first[start + 1] == second[start] and rest_equal
