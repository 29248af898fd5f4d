"""Every URL of the privacy app. Each area's views live in privacy/views/<area>.py."""

from django.urls import path

from backgroundmusic.privacy.views import center

app_name = "privacy"

urlpatterns = [
    path("privacy/", center.privacy_center, name="center"),
]

# Consents, cookies, sharing, restriction (privacy/views/consents.py)
from backgroundmusic.privacy.views import consents as consents_views  # noqa: E402

urlpatterns += [
    path("cookies/", consents_views.cookies_page, name="cookies"),
    path("cookies/choice/", consents_views.cookies_choice, name="cookies_choice"),
    path("privacy/consents/", consents_views.consent_change, name="consents"),
    path("privacy/restriction/", consents_views.restriction_change, name="restriction"),
]

# The link that confirms the newsletter consent (views/optin.py)
from backgroundmusic.privacy.views import optin as optin_views  # noqa: E402

urlpatterns += [
    path("privacy/confirm/<str:token>/", optin_views.optin_confirm, name="optin_confirm"),
]

# The public profile settings: publishing and indexing are consents (views/public_profile.py)
from backgroundmusic.privacy.views import public_profile as public_profile_views  # noqa: E402

urlpatterns += [
    path(
        "account/profile/public/",
        public_profile_views.public_profile_settings,
        name="public_profile_settings",
    ),
]

# Staff requests, disclosure register, records of processing (views/requests.py, ...)
from backgroundmusic.privacy.views import disclosures as disclosures_views  # noqa: E402
from backgroundmusic.privacy.views import processing as processing_views  # noqa: E402
from backgroundmusic.privacy.views import recipients as recipients_views  # noqa: E402
from backgroundmusic.privacy.views import requests as requests_views  # noqa: E402
from backgroundmusic.privacy.views import transfers as transfers_views  # noqa: E402

urlpatterns += [
    path("privacy/processing/", processing_views.processing_records, name="processing"),
    path("staff/requests/", requests_views.inbox, name="staff_requests"),
    path("staff/requests/new/", requests_views.request_new, name="staff_request_new"),
    path("staff/requests/<int:request_id>/", requests_views.request_detail, name="staff_request"),
    path("staff/disclosures/", disclosures_views.register_list, name="staff_disclosures"),
    path("staff/disclosures/new/", disclosures_views.disclosure_new, name="staff_disclosure_new"),
    path("staff/recipients/", recipients_views.recipients_page, name="staff_recipients"),
    path(
        "staff/recipients/<int:recipient_id>/",
        recipients_views.recipient_edit,
        name="staff_recipient_edit",
    ),
    path(
        "staff/recipients/<int:recipient_id>/deactivate/",
        recipients_views.recipient_deactivate,
        name="staff_recipient_deactivate",
    ),
    path(
        "staff/recipients/<int:recipient_id>/reactivate/",
        recipients_views.recipient_reactivate,
        name="staff_recipient_reactivate",
    ),
    path("staff/transfers/", transfers_views.transfers_page, name="staff_transfers"),
    path(
        "staff/transfers/<int:record_id>/end/",
        transfers_views.transfer_end,
        name="staff_transfer_end",
    ),
]

# The public request form and its one-time code (views/requests_public.py)
from backgroundmusic.privacy.views import requests_public as public_request_views  # noqa: E402

urlpatterns += [
    path("privacy/request/", public_request_views.request_form, name="public_request"),
    path("privacy/request/code/", public_request_views.request_code, name="public_request_code"),
    path("privacy/request/done/", public_request_views.request_done, name="public_request_done"),
]

# Legal holds (views/holds.py)
from backgroundmusic.privacy.views import holds as holds_views  # noqa: E402

urlpatterns += [
    path("staff/legal-holds/", holds_views.holds_page, name="staff_legal_holds"),
    path(
        "staff/legal-holds/<int:hold_id>/lift/",
        holds_views.hold_lift,
        name="staff_legal_hold_lift",
    ),
]

# Policy editions, acknowledgement, staff publishing (privacy/views/policies.py)
from backgroundmusic.privacy.models import DocumentKind  # noqa: E402
from backgroundmusic.privacy.views import policies as policies_views  # noqa: E402

_POLICY = {"kind": DocumentKind.PRIVACY_POLICY}
_TERMS = {"kind": DocumentKind.TERMS_OF_USE}

urlpatterns += [
    path("privacy-policy/", policies_views.document_current, _POLICY, name="policy"),
    path(
        "privacy-policy/editions/",
        policies_views.document_editions,
        _POLICY,
        name="policy_editions",
    ),
    path(
        "privacy-policy/editions/<str:version>/",
        policies_views.document_edition,
        _POLICY,
        name="policy_edition",
    ),
    path("privacy-policy/acknowledge/", policies_views.acknowledge, name="policy_acknowledge"),
    path("terms-of-use/", policies_views.document_current, _TERMS, name="terms"),
    path("terms-of-use/editions/", policies_views.document_editions, _TERMS, name="terms_editions"),
    path(
        "terms-of-use/editions/<str:version>/",
        policies_views.document_edition,
        _TERMS,
        name="terms_edition",
    ),
    path("staff/policies/", policies_views.staff_policies, name="staff_policies"),
]

# The data we hold, download my data, delete my account (privacy/views/rights.py)
from backgroundmusic.privacy.views import rights as rights_views  # noqa: E402

urlpatterns += [
    path("privacy/export/", rights_views.export_request, name="export_request"),
    path(
        "privacy/export/<int:export_id>/download/",
        rights_views.export_download_from_center,
        name="export_download_from_center",
    ),
    path(
        "privacy/export/download/<str:token>/",
        rights_views.export_download,
        name="export_download",
    ),
    path("privacy/delete/", rights_views.delete_account, name="delete"),
    path("privacy/delete/done/", rights_views.delete_done, name="delete_done"),
]
