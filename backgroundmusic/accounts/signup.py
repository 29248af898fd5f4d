"""allauth's sign-up form (ACCOUNT_FORMS["signup"]), with the same work for every address.

With enumeration prevention on, allauth answers a registered address as it answers a new one,
but created nothing for it: no password hash, which is most of the cost of a sign-up (Argon2),
and none of the account's rows, so the answer came an order of magnitude faster and told the
address apart. For a registered address the account is now created as for a new one, with the
same hash and the same writes, and rolled back before allauth sends its "you already have an
account" mail; both paths send one mail the same way (the adapter's send_mail, in the request).
Kept apart from forms.py, which allauth's forms module imports (ACCOUNT_SIGNUP_FORM_CLASS).
"""

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django.db import DatabaseError, transaction
from django.http import HttpRequest


class SignupForm(AllauthSignupForm):
    def try_save(self, request: HttpRequest) -> tuple[Any, Any]:
        if self.account_already_exists:
            self._create_and_roll_back(request)
        return super().try_save(request)

    def _create_and_roll_back(self, request: HttpRequest) -> None:
        self.account_already_exists = False
        try:
            with transaction.atomic():
                self.save(request)
                transaction.set_rollback(True)
        except DatabaseError:
            # A write a new account would not have met (a row created meanwhile): the work was
            # done up to there, and nothing of it stays either way.
            pass
        finally:
            self.account_already_exists = True
