"""manage.py import_tracks on a directory of real files: tags, CSV overrides, bad files."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from backgroundmusic.catalog.models import Track
from backgroundmusic.media.management.commands.import_tracks import musical_key
from backgroundmusic.media.models import Master
from backgroundmusic.media.tests.audio import clicks, sine, write_encoded, write_wav

pytestmark = pytest.mark.django_db


def test_import_with_tags_csv_and_bad_files(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_encoded(
        folder / "a.flac",
        clicks(6.0, bpm=120) + sine(6.0, dbfs=-30),
        container="flac",
        codec="flac",
        metadata={"title": "Tagged Title", "artist": "Tag Composer", "genre": "Ambient"},
    )
    write_wav(folder / "b.wav", sine(1.5, freq=440))
    (folder / "c.wav").write_bytes(b"not audio at all" * 100)
    write_wav(folder / "d.wav", sine(1.5, dbfs=-120))  # silent: fails ingest
    (folder / "notes.txt").write_text("ignored")
    sheet = tmp_path / "meta.csv"
    sheet.write_text(
        "file,title,composer,genres,moods,instruments,tags,bpm,key,energy,description\n"
        "b.wav,From CSV,CSV Composer,Ambient,Calm;Warm,Piano,sunrise; corporate,96,F# minor,3,"
        "Soft\n"
    )
    out, err = StringIO(), StringIO()
    call_command("import_tracks", str(folder), csv=str(sheet), now=True, stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("a.flac: «Tagged Title» (MW-") and " ready: 6.0 s, " in lines[0]
    assert lines[1].startswith("b.wav: «From CSV» (MW-")
    assert lines[2] == "4 files: 2 ready, 0 queued, 1 skipped, 1 failed"
    silent = Master.objects.get(status="failed")
    assert err.getvalue().splitlines() == [
        "c.wav: The file is damaged or is not an audio file "
        "(Invalid data found when processing input).",
        f"d.wav: «d» (MW-{silent.sha256[:10].upper()}) failed: The master is silent.",
    ]
    tagged = Track.objects.get(title="Tagged Title")
    assert (tagged.composer, [g.slug for g in tagged.genres.all()]) == ("Tag Composer", ["ambient"])
    assert tagged.tempo_bpm == 120  # from the BPM estimate
    assert tagged.duration_seconds == 6.0
    csv_track = Track.objects.get(title="From CSV")
    assert (csv_track.composer, csv_track.tempo_bpm, csv_track.musical_key, csv_track.energy) == (
        "CSV Composer",
        96,
        "F#m",
        3,
    )
    assert sorted(m.slug for m in csv_track.moods.all()) == ["calm", "warm"]
    assert sorted(t.name for t in csv_track.tags.all()) == ["corporate", "sunrise"]
    assert Track.objects.count() == 2  # nothing half-made for c.wav and d.wav


def test_queued_import_and_a_duplicate(tmp_path: Path):
    write_wav(tmp_path / "a.wav", sine(1.5))
    out = StringIO()
    call_command("import_tracks", str(tmp_path), stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines()[-1] == "1 files: 0 ready, 1 queued, 0 skipped, 0 failed"
    err = StringIO()
    with translation.override("ru"):  # the report is in the site's default language
        call_command("import_tracks", str(tmp_path), stdout=StringIO(), stderr=err)
    assert err.getvalue().strip() == (
        "a.wav: This master is already in the catalogue as «a» "
        f"(MW-{Master.objects.get().sha256[:10].upper()})."
    )


@pytest.mark.parametrize(
    "given, key",
    [("A minor", "Am"), ("F♯m", "F#m"), ("Bb major", "Bb"), ("A#", "Bb"), ("H", ""), ("C", "C")],
)
def test_musical_keys(given: str, key: str):
    assert musical_key(given) == key
