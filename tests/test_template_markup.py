"""No tag in a template names an attribute twice.

A browser keeps the first of two same-named attributes and drops the rest without a word, so a
repeated data-label or class goes unseen on the page and in the browser tests; the templates'
source is where it shows. Attribute values (translations and variables included) are read as
opaque; a tag whose attributes are themselves chosen by a template tag ({% if %} between
attributes) is left out, as its attributes differ by branch.
"""

import re
from collections import Counter
from pathlib import Path

import backgroundmusic

TEMPLATE_ROOT = Path(backgroundmusic.__file__).parent
TAG = re.compile(r"<([a-zA-Z][\w-]*)((?:[^<>{]|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})*)>", re.S)
QUOTED_VALUE = re.compile(r'"(?:[^"{]|\{\{.*?\}\}|\{%.*?%\})*"', re.S)
ATTRIBUTE_NAME = re.compile(r"(?:^|\s)([a-zA-Z_:@][-\w:.]*)\s*=")


def repeated_attributes(source: str) -> list[str]:
    """Each tag of the template source that names an attribute more than once, with the names."""
    found = []
    for tag in TAG.finditer(source):
        attributes = QUOTED_VALUE.sub('""', tag.group(2))
        if "{%" in attributes:
            continue
        counts = Counter(name.lower() for name in ATTRIBUTE_NAME.findall(attributes))
        repeated = sorted(name for name, count in counts.items() if count > 1)
        if repeated:
            found.append(f"<{tag.group(1)}> {', '.join(repeated)}")
    return found


def test_the_check_finds_a_repeated_attribute_and_reads_values_as_opaque() -> None:
    source = (
        "<td data-label=\"{% translate 'State' %}\" data-label=\"{% translate 'State' %}\">"
        '<a href="{{ url }}" title="a=b c=d">'
        '<input {% if x %}checked{% endif %} name="q" name="q">'
        '<p class="a" CLASS="b">'
    )
    assert repeated_attributes(source) == ["<td> data-label", "<p> class"]


def test_no_template_repeats_an_attribute() -> None:
    templates = sorted(TEMPLATE_ROOT.rglob("*.html"))
    assert len(templates) > 100
    problems = {
        str(path.relative_to(TEMPLATE_ROOT)): found
        for path in templates
        if (found := repeated_attributes(path.read_text(encoding="utf-8")))
    }
    assert problems == {}
