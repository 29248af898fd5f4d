"""allauth's sign-up form (ACCOUNT_FORMS["signup"]), with the same work for every address.

With enumeration prevention on, allauth answers a registered address as it answers a new one,
but creates nothing for it: no password hash, which is most of the cost of a sign-up (Argon2),
so the answer came about ten times faster and told the address apart. Both paths now hash the
password once and send one e-mail the same way (the adapter's send_mail, in the request).
Kept apart from forms.py, which allauth's forms module imports (ACCOUNT_SIGNUP_FORM_CLASS).
"""

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest


class SignupForm(AllauthSignupForm):
    def try_save(self, request: HttpRequest) -> tuple[Any, Any]:
        if self.account_already_exists:
            # The hash is thrown away: it only costs what creating the account would have.
            make_password(self.cleaned_data["password1"])
        return super().try_save(request)
