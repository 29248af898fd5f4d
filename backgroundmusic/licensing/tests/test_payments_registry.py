"""provider_for: only enabled providers, each built from settings."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from backgroundmusic.licensing.payments import ProviderNotEnabled, provider_for
from backgroundmusic.licensing.payments.bank_transfer import BankTransferProvider
from backgroundmusic.licensing.payments.yookassa import YooKassaProvider

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
