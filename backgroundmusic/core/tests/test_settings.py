import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.test import override_settings

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    completed = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "HTTPS": "1",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "VAR_DIR": str(tmp_path),
            # Outside the embedded demo (the PostgreSQL run) the operator names its start day.
            "OPERATOR_SERVICE_STARTED_ON": "2025-06-01",
            # A server install (the PostgreSQL run passes DATABASE_URL) names where each store is.
            **{
                name: "RU"
                for name in (
                    "SERVER_COUNTRY",
                    "DATABASE_COUNTRY",
                    "ANALYTICS_DATABASE_COUNTRY",
                    "MEDIA_COUNTRY",
                    "CACHE_COUNTRY",
                )
            },
        },
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "System check identified no issues (0 silenced)."


def test_a_mistyped_service_start_day_stops_the_project_at_start_up(tmp_path):
    completed = manage(
        "check", env={"VAR_DIR": str(tmp_path), "OPERATOR_SERVICE_STARTED_ON": "01.06.2025"}
    )
    assert completed.returncode == 1
    assert (
        "django.core.exceptions.ImproperlyConfigured: OPERATOR_SERVICE_STARTED_ON must be a date "
        "written YYYY-MM-DD, such as 2025-06-01; it is '01.06.2025'."
    ) in completed.stderr


def test_the_deploy_check_asks_for_the_service_start_day_outside_the_demo(tmp_path):
    completed = manage(
        "check",
        "--deploy",
        env={
            "VAR_DIR": str(tmp_path),
            "OPERATOR_DEMONSTRATION": "0",
            "OPERATOR_SERVICE_STARTED_ON": "",
        },
    )
    assert completed.returncode == 1
    assert (
        "?: (privacy.E050) OPERATOR_SERVICE_STARTED_ON is not set: the day the service started "
        "(YYYY-MM-DD), before which no data-subject request can have been received."
    ) in completed.stderr


def test_embedded_defaults_generate_secrets_into_var_and_keep_them(tmp_path):
    env = {"VAR_DIR": str(tmp_path), "SECRET_KEY": "", "DATA_MASTER_KEYS": ""}
    first = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", env=env
    )
    second = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", env=env
    )
    secret_file = tmp_path / "secret_key"
    assert first.stdout.strip().splitlines()[-1] == secret_file.read_text()
    assert second.stdout.strip().splitlines()[-1] == secret_file.read_text()
    assert len(secret_file.read_text()) >= 50
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "data_master_keys").read_text().startswith("k1:")


def test_argon2id_hashes_new_passwords():
    # The suite swaps in a fast hasher; this checks the configured production list.
    from config import settings as configured

    with override_settings(PASSWORD_HASHERS=configured.PASSWORD_HASHERS):
        assert make_password("a-long-password-1").startswith("argon2$argon2id$")
