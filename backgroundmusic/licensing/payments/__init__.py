"""Payment providers behind one interface (issue 11, item 3).

The provider layer knows no licensing model: the service layer calls a provider with plain
values and stores what comes back (base.py: ProviderPayment, ProviderRefund, Notification).

- `base.py`: the PaymentProvider protocol, its values and errors. ProviderUnavailable (no answer
  in time, no connection, 5xx, 429, 202) means "outcome unknown, retry with the same key";
  ProviderRejected carries the provider's error code; NotificationRejected refuses a webhook
  body. Amounts are Decimals with exactly two places, sent as "990.00", never floats.
- `bank_transfer.py`: the embedded default; a payment waits until staff confirm the transfer.
  No call leaves the server; it answers from what the service stored (a TransferBook).
- `yookassa.py`: cards through YooKassa's official SDK, two-stage (capture after the service
  has checked the payment); tests run it against tests/yookassa_double.py, a test double of
  YooKassa's HTTP API started as its own process.

The rules every caller keeps:
- Every create, capture, cancel and refund carries an idempotency key the service stored
  before calling, so a retry after ProviderUnavailable reaches the same object.
- A webhook is never trusted by its body: parse_notification gives only the event and the
  object id; the service reads the object again (get_payment, get_refund) and acts on that
  answer, so a replayed, out-of-order or forged notification cannot change anything the
  provider does not say.

`provider_for(name)` builds an enabled provider from settings: PAYMENT_PROVIDERS lists the
enabled ones (bank_transfer always; yookassa when YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY are
set), YOOKASSA_API_URL and YOOKASSA_TIMEOUT_SECONDS configure the adapter.
"""

from collections.abc import Callable

from django.conf import settings

from backgroundmusic.licensing.payments.bank_transfer import BankTransferProvider
from backgroundmusic.licensing.payments.base import PaymentProvider
from backgroundmusic.licensing.payments.yookassa import YooKassaProvider

_BUILDERS: dict[str, Callable[[], PaymentProvider]] = {
    BankTransferProvider.name: BankTransferProvider.from_settings,
    YooKassaProvider.name: YooKassaProvider.from_settings,
}


class ProviderNotEnabled(LookupError):
    pass


def provider_for(name: str) -> PaymentProvider:
    """The provider called `name`, configured from settings; only an enabled one."""
    if name not in settings.PAYMENT_PROVIDERS or name not in _BUILDERS:
        raise ProviderNotEnabled(f"payment provider {name!r} is not enabled")
    return _BUILDERS[name]()
