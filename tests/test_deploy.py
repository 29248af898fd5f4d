"""deploy/: the systemd units, the compose file and its image, checked as far as this machine can
(no container engine, no systemd running): every command is a real one of this checkout, every
variable one the settings read, the units pass `systemd-analyze verify`, nginx accepts the
compose site (decision 0042)."""

import importlib
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from configparser import RawConfigParser
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from backgroundmusic.core.destinations import destinations_declared

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
CHECKOUT_IN_UNITS = "/srv/backgroundmusic"
# Read by libraries or Python, not by config/settings.py.
VARIABLES_READ_ELSEWHERE = {
    "PROMETHEUS_MULTIPROC_DIR",
    "DJANGO_SETTINGS_MODULE",
    "PYTHONUNBUFFERED",
}


def settings_variables() -> set[str]:
    """Every environment variable config/settings.py reads by name."""
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""", source))


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def app_services() -> dict[str, dict]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("image") == "backgroundmusic:latest"
    }


def check_command(argv: list[str]) -> None:
    """One command as a unit or a container runs it from the checkout: manage.py with one of
    its commands, or gunicorn with this WSGI application and config file."""
    program = Path(argv[0]).name
    if program.startswith("python"):
        assert argv[1] == "manage.py"
        assert argv[2] in get_commands(), f"no manage.py command {argv[2]}"
    elif program == "gunicorn":
        module, _, attribute = argv[1].partition(":")
        assert hasattr(importlib.import_module(module), attribute)
        config = argv[argv.index("-c") + 1]
        assert (ROOT / config).is_file()
        assert "--bind" in argv and "--workers" in argv
    else:
        pytest.fail(f"unexpected program {argv[0]}")


def commands_of(command: str) -> list[list[str]]:
    argv = shlex.split(command)
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def test_the_units_pass_systemd_analyze_verify_installed_over_this_checkout(tmp_path):
    assert [unit.name for unit in UNITS] == [
        "backgroundmusic-migrate.service",
        "backgroundmusic-web.service",
        "backgroundmusic-worker@.service",
    ]
    installed = []
    for unit in UNITS:
        text = unit.read_text().replace(CHECKOUT_IN_UNITS, str(ROOT))
        name = unit.name.replace("@.", "@1.")  # a template is verified as one of its instances
        (tmp_path / name).write_text(text)
        installed.append(str(tmp_path / name))
    # systemd-analyze checks every key and that each ExecStart program exists and runs.
    result = subprocess.run(  # noqa: S603 - fixed program, our files
        [shutil.which("systemd-analyze") or "systemd-analyze", "verify", *installed],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_units_run_real_commands_with_variables_the_settings_read():
    known = settings_variables() | VARIABLES_READ_ELSEWHERE
    for unit in UNITS:
        parser = RawConfigParser(strict=False, delimiters=("=",))
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(unit.read_text())
        service = parser["Service"]
        assert service["WorkingDirectory"] == CHECKOUT_IN_UNITS
        starts = [line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")]
        assert starts, unit.name
        for line in starts:
            argv = shlex.split(line.removeprefix("ExecStart="))
            assert argv[0].startswith(CHECKOUT_IN_UNITS + "/.venv/bin/")
            check_command(argv)
        environment = [
            line.removeprefix("Environment=").split("=", 1)[0]
            for line in unit.read_text().splitlines()
            if line.startswith("Environment=")
        ]
        assert set(environment) <= known, unit.name


def test_every_compose_service_of_the_app_runs_a_real_command():
    services = app_services()
    assert sorted(services) == ["app", "migrate", "worker"]
    ran = [argv for service in services.values() for argv in commands_of(service["command"])]
    for argv in ran:
        check_command(argv)
    assert [argv[:3] for argv in ran] == [
        ["python", "manage.py", "migrate"],
        ["python", "manage.py", "migrate"],
        ["python", "manage.py", "collectstatic"],
        ["gunicorn", "config.wsgi:application", "-c"],
        ["python", "manage.py", "run_worker"],
    ]
    assert sorted(compose()["services"]) == [
        "app",
        "migrate",
        "minio",
        "minio-bucket",
        "nginx",
        "postgres",
        "redis",
        "worker",
    ]


def test_every_compose_variable_is_one_the_settings_read_and_valid(settings):
    known = settings_variables() | VARIABLES_READ_ELSEWHERE
    for name, service in app_services().items():
        unknown = set(service["environment"]) - known
        assert unknown == set(), f"{name}: {sorted(unknown)}"
    environment = app_services()["app"]["environment"]
    settings.OUTBOUND_DESTINATIONS = json.loads(environment["OUTBOUND_DESTINATIONS"])
    assert [(d.host, d.port, d.purpose) for d in destinations_declared()] == [
        ("minio", 9000, "storage"),
        ("mail.example.com", 587, "mail"),
    ]
    assert environment["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert environment["PROMETHEUS_MULTIPROC_DIR"] in [
        volume.split(":")[1] for volume in app_services()["app"]["volumes"]
    ]
    example = (DEPLOY / "compose.env.example").read_text()
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "compose.yaml").read_text()))
    assert interpolated == set(re.findall(r"(?m)^([A-Z_]+)=", example))


def test_the_files_compose_mounts_and_builds_from_exist():
    for service in compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), source
    build = app_services()["app"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_the_image_installs_what_the_makefile_and_pyproject_name(tmp_path):
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    python = re.search(r"(?m)^FROM python:(\d+)\.(\d+)-", dockerfile)
    assert python is not None
    required = re.fullmatch(r">=(\d+)\.(\d+)", pyproject["project"]["requires-python"])
    assert required is not None
    assert tuple(map(int, python.groups())) >= tuple(map(int, required.groups()))
    makefile = (ROOT / "Makefile").read_text()
    pdf_packages = re.search(r"(?m)^PDF_PACKAGES := (.+)$", makefile)
    assert pdf_packages is not None
    for package in [*pdf_packages.group(1).split(), "libicu-dev", "pkg-config", "g++"]:
        assert f" {package}" in dockerfile, package
    for source in re.findall(r"(?m)^COPY (.+) \S+$", dockerfile):
        for path in source.split():
            assert (ROOT / path).exists(), path
    # The requirements step, run on this pyproject.toml, lists exactly its dependencies.
    step = re.search(r'RUN (python -c ".+?") > /tmp/requirements.txt', dockerfile)
    assert step is not None
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    listed = subprocess.run(  # noqa: S603 - the Dockerfile's own step
        [sys.executable, "-c", shlex.split(step.group(1))[2]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert listed == pyproject["project"]["dependencies"]


def test_nginx_accepts_the_compose_site(tmp_path):
    site = (DEPLOY / "nginx" / "compose.conf").read_text()
    # Docker's names resolve only inside compose's network.
    (tmp_path / "site.conf").write_text(
        site.replace("app:8000", "127.0.0.1:8000").replace("minio:9000", "127.0.0.1:9000")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    result = subprocess.run(  # noqa: S603 - Debian's nginx, our file
        [
            shutil.which("nginx") or "/usr/sbin/nginx",
            "-t",
            "-q",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-e",
            str(tmp_path / "error.log"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_the_app_counts_the_one_nginx_that_appends_the_client_address():
    """nginx appends the address it saw to X-Forwarded-For and the app takes that entry
    (PROXY_COUNT=1, core/middleware.py); the header is set once, where the app is proxied to."""
    for site in ("backgroundmusic.conf", "compose.conf"):
        lines = (DEPLOY / "nginx" / site).read_text().splitlines()
        forwarded = [line.strip() for line in lines if "X-Forwarded-For" in line]
        assert forwarded == ["proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"], site
    assert app_services()["app"]["environment"]["PROXY_COUNT"] == "1"
    web = (DEPLOY / "systemd" / "backgroundmusic-web.service").read_text().splitlines()
    settings = [line for line in web if line.startswith("Environment=PROXY_COUNT")]
    assert settings == ["Environment=PROXY_COUNT=1"]


def test_nginx_closes_an_idle_app_connection_before_gunicorn_does():
    """Else a request nginx sends on a connection gunicorn is closing is lost: a beacon's POST
    is answered 502 (seen in `make load` before any fault)."""
    gunicorn_config = importlib.import_module("config.gunicorn")
    for site in ("backgroundmusic.conf", "compose.conf"):
        text = (DEPLOY / "nginx" / site).read_text()
        upstream = re.search(r"upstream backgroundmusic_app \{(.*?)\n\}", text, re.S)
        assert upstream is not None, site
        timeouts = re.findall(r"^\s*keepalive_timeout (\d+)s;", upstream.group(1), re.M)
        assert [int(seconds) for seconds in timeouts] == [60], site
        assert gunicorn_config.keepalive > 60
