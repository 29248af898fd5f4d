"""The committed Russian catalogue is complete, compiled from the committed .po, and served.

The .mo is committed (docs/decisions/0004-compiled-translations-are-committed.md), so these tests
catch a .po edited without `make messages`, an untranslated or fuzzy entry, and a page that does
not switch to Russian. They need GNU gettext's msgfmt (`make gettext-deps`) and fail without it.
"""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[3]
LC_MESSAGES = PROJECT_ROOT / "backgroundmusic" / "locale" / "ru" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"


def msgfmt(*args: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("msgfmt")
    if executable is None:
        pytest.fail(
            "msgfmt (GNU gettext) is not installed, so the committed translations cannot be "
            "checked: run `make gettext-deps` (apt-get install gettext)."
        )
    return subprocess.run(  # noqa: S603 - fixed arguments
        [executable, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def catalogue(mo_path: Path) -> dict[object, str]:
    with mo_path.open("rb") as mo:
        return gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]


def test_committed_mo_is_compiled_from_the_committed_po(tmp_path):
    fresh = tmp_path / "django.mo"
    completed = msgfmt("--check", "-o", str(fresh), str(PO_FILE))
    assert completed.returncode == 0, completed.stderr
    assert catalogue(MO_FILE) == catalogue(fresh), (
        f"{MO_FILE.relative_to(PROJECT_ROOT)} was not compiled from {PO_FILE.name}: "
        "run `make messages` and commit both"
    )


def test_every_entry_is_translated_and_none_is_fuzzy():
    completed = msgfmt("--check", "--statistics", "-o", "/dev/null", str(PO_FILE))
    assert completed.returncode == 0, completed.stderr
    statistics = completed.stderr
    assert "fuzzy" not in statistics, statistics
    assert "untranslated" not in statistics, statistics
    translated = re.search(r"(\d+) translated messages?\.", statistics)
    assert translated is not None, statistics
    po_text = PO_FILE.read_text(encoding="utf-8")
    entries = len(re.findall(r"^msgid ", po_text, flags=re.MULTILINE)) - 1  # less the header
    assert int(translated.group(1)) == entries > 0
    assert not re.search(r"^#,.*\bfuzzy\b", po_text, flags=re.MULTILINE)


def test_catalogue_header_declares_russian_and_its_three_plural_forms():
    with MO_FILE.open("rb") as mo:
        translations = gettext.GNUTranslations(mo)
    info = translations.info()
    assert info["language"] == "ru"
    assert info["content-type"] == "text/plain; charset=UTF-8"
    assert info["plural-forms"].startswith("nplurals=3;")
    plural = translations.plural  # type: ignore[attr-defined]
    forms = {n: plural(n) for n in (1, 2, 5, 11, 12, 21, 22, 25, 101, 111)}
    assert forms == {1: 0, 2: 1, 5: 2, 11: 2, 12: 2, 21: 0, 22: 1, 25: 2, 101: 0, 111: 2}


@pytest.mark.django_db
def test_home_page_in_russian_by_accept_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "<h1>Инструментальная фоновая музыка с честной лицензией</h1>" in html
    assert ">Создать аккаунт</a>" in html
    assert ">Зарегистрироваться</a>" in html
    assert ">Войти</a>" in html
    assert '<nav class="main-nav" aria-label="Основная навигация">' in html
    assert "Instrumental background music" not in html


@pytest.mark.django_db
def test_login_page_in_russian_after_choosing_the_language(client):
    chosen = client.post("/i18n/setlang/", {"language": "ru", "next": "/accounts/login/"})
    assert chosen.status_code == 302
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert ">Войти</a>" in html
    assert ">Зарегистрироваться</a>" in html
    assert '<label for="language-select" class="visually-hidden">Язык</label>' in html
    assert '<button type="submit">Сменить</button>' in html
    assert ">Sign up</a>" not in html
