"""A fresh machine needs two commands (README.md), and `make run` serves the site before the
demo catalogue is made (bin/run-embedded, docs/decisions/0038-first-run-in-the-background.md)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_gives_exactly_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set-up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    commands = [line.split("#", 1)[0].strip() for line in blocks[0].splitlines()]
    assert commands == ["make run", "make test"]
    assert "`/catalog/` shows how many are" in section


def test_run_embedded_queues_the_catalogue_and_starts_serving_without_waiting_for_it():
    script = (ROOT / "bin" / "run-embedded").read_text()
    # Collected in the background while migrating, waited for before the server starts.
    assert script.index('wait "$collecting"') < script.index("run_worker &")
    steps = [
        line.strip()
        for line in script.splitlines()
        if not line.lstrip().startswith("#") and ("manage.py" in line or "gunicorn" in line)
    ]
    commands = [re.sub(r"^(\$PY|\S*/gunicorn) ", "", step) for step in steps]
    assert [command.split(" &")[0] for command in commands] == [
        "manage.py collectstatic --noinput >/dev/null",
        "manage.py migrate --noinput --database keys",
        "manage.py migrate --noinput",
        "manage.py seed_demo",
        "manage.py seed_licensing",
        "manage.py seed_catalog --background",
        "manage.py run_worker",
        'config.wsgi:application -c config/gunicorn.py --bind "127.0.0.1:${PORT}" '
        "--workers 2 --threads 4",
    ]
