"""provider_for: only enabled providers, each built from settings; the settings that let a
browser reach the card provider's page."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from backgroundmusic.licensing.payments import ProviderNotEnabled, provider_for
from backgroundmusic.licensing.payments.bank_transfer import BankTransferProvider
from backgroundmusic.licensing.payments.yookassa import YooKassaProvider

SETTINGS_FILE = Path(__file__).resolve().parents[3] / "config" / "settings.py"
BOOK = "backgroundmusic.licensing.tests.test_payments_bank_transfer.StoredTransfers"


def test_bank_transfer_reads_the_book_the_settings_name(settings):
    settings.PAYMENT_PROVIDERS = ["bank_transfer"]
    settings.PAYMENT_TRANSFER_BOOK = BOOK

    assert isinstance(provider_for("bank_transfer"), BankTransferProvider)


def test_bank_transfer_without_a_book_is_a_configuration_error(settings):
    settings.PAYMENT_PROVIDERS = ["bank_transfer"]
    settings.PAYMENT_TRANSFER_BOOK = ""

    with pytest.raises(ImproperlyConfigured, match="PAYMENT_TRANSFER_BOOK"):
        provider_for("bank_transfer")


def test_yookassa_is_built_when_enabled(yookassa_double):
    assert isinstance(provider_for("yookassa"), YooKassaProvider)


@pytest.mark.parametrize("name", ["yookassa", "paypal"])
def test_a_provider_not_enabled_is_refused(settings, name):
    settings.PAYMENT_PROVIDERS = ["bank_transfer", "paypal"]

    with pytest.raises(ProviderNotEnabled):
        provider_for(name)


def test_yookassa_enabled_without_its_key_is_a_configuration_error(settings):
    settings.PAYMENT_PROVIDERS = ["bank_transfer", "yookassa"]
    settings.YOOKASSA_SHOP_ID = "123456"
    settings.YOOKASSA_SECRET_KEY = ""

    with pytest.raises(ImproperlyConfigured, match="YOOKASSA_SECRET_KEY"):
        provider_for("yookassa")


@pytest.mark.parametrize(
    ("environment", "form_action"),
    [
        ({}, ["'self'"]),
        (
            {"YOOKASSA_SHOP_ID": "123", "YOOKASSA_SECRET_KEY": "k"},
            ["'self'", "https://yoomoney.ru"],
        ),
        (
            {
                "YOOKASSA_SHOP_ID": "123",
                "YOOKASSA_SECRET_KEY": "k",
                "YOOKASSA_PAYMENT_PAGE_ORIGIN": "https://pay.example",
            },
            ["'self'", "https://pay.example"],
        ),
    ],
)
def test_the_content_security_policy_lets_checkout_lead_to_the_card_providers_page(
    monkeypatch, tmp_path, environment, form_action
):
    """Browsers apply form-action to the redirect that answers a form, and checkout answers
    with YooKassa's payment page: allowed when YooKassa is enabled, and only then."""
    for name in ("YOOKASSA_SHOP_ID", "YOOKASSA_SECRET_KEY", "YOOKASSA_PAYMENT_PAGE_ORIGIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    configured = runpy.run_path(str(SETTINGS_FILE))

    assert configured["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"] == form_action
