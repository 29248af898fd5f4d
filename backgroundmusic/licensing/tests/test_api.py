"""The licensing operations of the API (licensing/api.py): what each answers, exactly, from the
selectors the pages use; the one write through the coverage form and service; the certificate
check counted with the /verify/ page."""

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements, editions, orders
from backgroundmusic.licensing.models import (
    Agreement,
    CoveredUse,
    PaymentMethod,
    PlanKind,
    Use,
)
from backgroundmusic.licensing.tests.api_scene import (
    NOW,
    PAID,
    Licensee,
    download,
    licensee_scene,
)
from backgroundmusic.licensing.tests.checkout_scene import BROWSER
from backgroundmusic.licensing.tests.factories import plan_edition, terms_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order

pytestmark = pytest.mark.django_db

CSRF = "k" * 32


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def scene(owner: User) -> Licensee:
    return licensee_scene(owner)


@pytest.fixture
def signed_in(client: Client, owner: User) -> Client:
    client.force_login(owner)
    return client


def envelope(code: str, message: str, details: object = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "details": details}}


def post_work(client: Client, number: str, body: Mapping[str, object]):
    return client.post(f"/api/me/agreements/{number}/works", body, content_type="application/json")


def test_plans_are_the_editions_on_sale_with_their_prices_and_vat(client):
    on_sale = plan_edition(
        kind=PlanKind.CREATOR,
        title_en="Creator",
        title_ru="Автор",
        price_rub=Decimal("333.33"),
        price_eur=Decimal("3.33"),
    )
    withdrawn = plan_edition(kind=PlanKind.BUSINESS)
    editions.plan_withdraw(actor=None, plan=withdrawn.plan)

    response = client.get("/api/plans")

    assert response.status_code == 200
    assert response.json() == [
        {
            "code": on_sale.plan.code,
            "kind": "creator",
            "version": "1",
            "title_en": "Creator",
            "title_ru": "Автор",
            "description_en": "A plan.",
            "description_ru": "Тариф.",
            "uses": ["online_video", "podcast"],
            "territory": "worldwide",
            "scope": "catalogue",
            "term": "monthly",
            "quantity_unit": "licence",
            "min_quantity": 1,
            "max_quantity": 1,
            "price_rub": "333.33",
            "price_eur": "3.33",
            "vat_rate": "20.00",
            # VAT on one unit, rounded half up: 66.666 → 66.67 and 0.666 → 0.67.
            "prices": [
                {"currency": "RUB", "net": "333.33", "vat": "66.67", "gross": "400.00"},
                {"currency": "EUR", "net": "3.33", "vat": "0.67", "gross": "4.00"},
            ],
            "content_hash": on_sale.content_hash,
            "effective_at": "2026-03-12T12:00:00Z",
            "page_url": f"/pricing/{on_sale.plan.code}/",
        }
    ]


def test_a_plan_by_its_code_and_a_plan_not_on_sale(client):
    on_sale = plan_edition(kind=PlanKind.VENUE, uses=[Use.PUBLIC_PERFORMANCE], max_quantity=50)
    withdrawn = plan_edition(kind=PlanKind.BUSINESS)
    editions.plan_withdraw(actor=None, plan=withdrawn.plan)

    found = client.get(f"/api/plans/{on_sale.plan.code}")
    missing = client.get(f"/api/plans/{withdrawn.plan.code}")

    assert found.status_code == 200
    assert (found.json()["kind"], found.json()["max_quantity"]) == ("venue", 50)
    assert missing.status_code == 404
    assert missing.json() == envelope("not_found", "No plan with this code is on sale.")
    in_russian = client.get(f"/api/plans/{withdrawn.plan.code}", HTTP_ACCEPT_LANGUAGE="ru")
    assert in_russian.json() == envelope("not_found", "Тариф с таким кодом не продаётся.")


def test_the_certificate_check_states_what_the_verify_page_states(client, scene):
    public_id = scene.subscription.certificate.public_id

    response = client.get(f"/api/certificates/{public_id}")

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response.json() == {
        "public_id": public_id,
        "number": scene.subscription.number,
        "status": "active",
        "status_label": "Active",
        "starts_at": "2026-03-10T12:00:00Z",
        "paid_until": "2026-04-10T12:00:00Z",
        "ended_at": None,
        "catalogue": True,
        "track_title": "",
        "track_code": "",
        "plan_title": "Creator",
        "uses": [
            "Online videos on the licensee's own channels",
            "Podcasts on the licensee's own channels",
        ],
        "territory": "Worldwide",
        "term": "Monthly subscription, renewed by paying each month",
        "monthly": True,
        "licensee": "A private person",
        "verify_url": f"http://127.0.0.1:8000/verify/{public_id}/",
        "checked_at": "2026-03-12T12:00:00Z",
    }


def test_the_certificate_check_in_russian_after_the_paid_month(client, scene):
    public_id = scene.single.certificate.public_id
    subscription_id = scene.subscription.certificate.public_id
    with clock.frozen_at(PAID + timedelta(days=40)):
        single = client.get(f"/api/certificates/{public_id}", HTTP_ACCEPT_LANGUAGE="ru").json()
        lapsed = client.get(f"/api/certificates/{subscription_id}", HTTP_ACCEPT_LANGUAGE="ru")

    assert (single["status"], single["status_label"], single["catalogue"]) == (
        "active",
        "Действует",
        False,
    )
    assert (single["track_title"], single["track_code"], single["paid_until"]) == (
        "Morning Light",
        "BM-0001",
        None,
    )
    assert (lapsed.json()["status"], lapsed.json()["status_label"]) == (
        "suspended",
        "Приостановлена (продление не оплачено)",
    )
    assert lapsed.json()["licensee"] == "Частное лицо"


def test_an_unknown_certificate_is_not_found(client, scene):
    response = client.get("/api/certificates/no-such-id")

    assert response.status_code == 404
    assert response.json() == envelope("not_found", "There is no certificate with this id.")


def test_certificate_checks_count_with_the_verify_pages(client, scene, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "certificate_verify": {"person": "3/m", "address": "3/m"},
    }
    public_id = scene.subscription.certificate.public_id
    assert client.get(f"/verify/{public_id}/").status_code == 200
    assert client.get("/verify/no-such-id/").status_code == 404
    assert client.get(f"/api/certificates/{public_id}").status_code == 200

    refused = client.get(f"/api/certificates/{public_id}")

    assert refused.status_code == 429
    retry_after = int(refused["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.json() == envelope(
        "rate_limited",
        "Too many checks: try again after the number of seconds in Retry-After.",
        {"retry_after": retry_after},
    )
    assert client.get(f"/verify/{public_id}/").status_code == 429
    assert client.get("/api/plans").status_code == 200


def test_my_agreements_newest_first_with_status_term_and_certificate(signed_in, scene):
    subscription, single = scene.subscription, scene.single
    Agreement.objects.filter(pk=single.pk).update(concluded_at=PAID + timedelta(seconds=1))

    with clock.frozen_at(PAID + timedelta(days=31, hours=1)):
        response = signed_in.get("/api/me/agreements")

    assert response.status_code == 200
    listed = response.json()
    assert [item["number"] for item in listed] == [single.number, subscription.number]
    certificate = subscription.certificate
    assert listed[1] == {
        "number": subscription.number,
        # Past the paid month: suspended as it stands, before the hourly job writes it.
        "status": "suspended",
        "plan_code": subscription.plan_edition.plan.code,
        "plan_version": "1",
        "plan_title_en": "Creator",
        "plan_title_ru": "Автор",
        "plan_edition_hash": subscription.plan_edition.content_hash,
        "licensee_kind": "natural",
        "scope": "catalogue",
        "track": None,
        "uses": ["online_video", "podcast"],
        "territory": "worldwide",
        "term": "monthly",
        "quantity": 1,
        "use_description": "youtube.com/@anna",
        "starts_at": "2026-03-10T12:00:00Z",
        "paid_until": "2026-04-10T12:00:00Z",
        "ended_at": None,
        "renewal_cancelled_at": None,
        "concluded_at": "2026-03-10T12:00:00Z",
        "document_hash": subscription.document_hash,
        "certificate": {
            "public_id": certificate.public_id,
            "verify_url": f"http://127.0.0.1:8000/verify/{certificate.public_id}/",
            "licensee_display": "private_person",
        },
        "page_url": f"/licences/{subscription.number}/",
    }
    assert (listed[0]["status"], listed[0]["term"], listed[0]["paid_until"]) == (
        "active",
        "perpetual",
        None,
    )
    assert listed[0]["track"] == {
        "slug": "morning-light",
        "title": "Morning Light",
        "catalogue_code": "BM-0001",
        "page_url": "/catalog/morning-light/",
    }


def test_one_agreement_with_its_history_and_documents(signed_in, scene):
    subscription = scene.subscription
    agreements.agreement_cancel_renewal(user=scene.user, agreement=subscription, now=NOW)

    response = signed_in.get(f"/api/me/agreements/{subscription.number}")

    assert response.status_code == 200
    body = response.json()
    number = subscription.number
    assert body["renewal_cancelled_at"] == "2026-03-12T12:00:00Z"
    assert body["terms_edition_hash"] == subscription.terms_edition_hash
    assert body["history"] == [
        {
            "at": "2026-03-10T12:00:00Z",
            "status_from": "",
            "status_to": "active",
            "paid_until": "2026-04-10T12:00:00Z",
            "description": "Concluded",
            "reason": "",
        },
        {
            "at": "2026-03-12T12:00:00Z",
            "status_from": "active",
            "status_to": "active",
            "paid_until": "2026-04-10T12:00:00Z",
            "description": "Renewal cancelled by the licensee: ends when the paid month ends",
            "reason": "renewal cancelled by the licensee",
        },
    ]
    assert (
        body["document_url"],
        body["document_pdf_url"],
        body["certificate_pdf_url"],
        body["coverage_url"],
    ) == (
        f"/licences/{number}/agreement/",
        f"/licences/{number}/agreement.pdf",
        f"/licences/{number}/certificate.pdf",
        f"/licences/{number}/coverage/",
    )


def test_a_revoked_venue_licence_says_why_and_has_no_coverage(signed_in, owner):
    venue = plan_edition(kind=PlanKind.VENUE, uses=[Use.PUBLIC_PERFORMANCE])
    [agreement] = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=[{"edition": venue}], paid_at=PAID), now=PAID
    )
    agreements.agreement_revoke(actor=None, agreement=agreement, reason="Refunded", now=NOW)

    body = signed_in.get(f"/api/me/agreements/{agreement.number}").json()
    coverage = signed_in.get(f"/api/me/agreements/{agreement.number}/coverage")

    assert (body["status"], body["ended_at"], body["coverage_url"]) == (
        "revoked",
        "2026-03-12T12:00:00Z",
        None,
    )
    assert [(e["status_to"], e["description"], e["reason"]) for e in body["history"]] == [
        ("active", "Concluded", ""),
        ("revoked", "Revoked", "Refunded"),
    ]
    assert coverage.status_code == 404
    assert coverage.json() == envelope("not_found", "There is no such licence with coverage.")


def test_an_unknown_agreement_is_not_found(signed_in, scene):
    response = signed_in.get("/api/me/agreements/BM-2026-999999")

    assert response.status_code == 404
    assert response.json() == envelope("not_found", "You have no licence with this number.")


def test_coverage_shows_stretches_and_which_works_are_covered(signed_in, scene):
    subscription = scene.subscription
    # Registered while in force, published before the licence: kept, and not covered.
    CoveredUse.objects.create(
        agreement=subscription,
        platform="vk",
        url="https://vk.com/video1",
        published_on=date(2026, 3, 1),
        added_at=NOW,
    )

    response = signed_in.get(f"/api/me/agreements/{subscription.number}/coverage")

    assert response.status_code == 200
    assert response.json() == {
        "number": subscription.number,
        "in_force": True,
        "revoked": False,
        "stretches": [{"start": "2026-03-10T12:00:00Z", "end": "2026-04-10T12:00:00Z"}],
        "channels": [],
        "works": [
            {
                "platform": "vk",
                "url": "https://vk.com/video1",
                "title": "",
                "published_on": "2026-03-01",
                "track": None,
                "covered": False,
                "added_at": "2026-03-12T12:00:00Z",
            },
            {
                "platform": "youtube",
                "url": "https://youtu.be/abc",
                "title": "Spring vlog",
                "published_on": "2026-03-10",
                "track": None,
                "covered": True,
                "added_at": "2026-03-10T12:00:00Z",
            },
        ],
        "letter_url": f"/licences/{subscription.number}/letter.pdf",
    }


def test_registering_a_work_stores_it_as_the_page_does(signed_in, scene):
    response = post_work(
        signed_in,
        scene.subscription.number,
        {
            "url": "HTTPS://YouTube.com/watch?v=ЖЁ1",
            "published_on": "2026-03-11",
            "title": "  Episode 2 ",
            "track": "bm-0002",
        },
    )

    assert response.status_code == 201
    assert response.json() == {
        "platform": "youtube",
        "url": "https://youtube.com/watch?v=%D0%96%D0%811",
        "title": "Episode 2",
        "published_on": "2026-03-11",
        "track": {
            "slug": "city-run",
            "title": "City Run",
            "catalogue_code": "BM-0002",
            "page_url": "/catalog/city-run/",
        },
        "covered": True,
        "added_at": "2026-03-12T12:00:00Z",
    }
    stored = CoveredUse.objects.get(url="https://youtube.com/watch?v=%D0%96%D0%811")
    assert (stored.agreement_id, stored.track_id, stored.title) == (
        scene.subscription.pk,
        scene.other_track.pk,
        "Episode 2",
    )


def test_a_single_track_licence_registers_its_own_track(signed_in, scene):
    response = post_work(
        signed_in,
        scene.single.number,
        {"url": "https://example.com/film", "published_on": "2026-03-12", "track": "BM-0002"},
    )

    assert response.status_code == 201
    assert (response.json()["platform"], response.json()["track"]["catalogue_code"]) == (
        "other",
        "BM-0001",
    )


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {"url": "https://youtu.be/abc", "published_on": "2026-03-11"},
            400,
            envelope(
                "use_duplicate",
                "This work is already registered for this licence (published on 10 March 2026).",
                {"field": "url"},
            ),
        ),
        (
            {"url": "https://youtu.be/new", "published_on": "2026-03-09"},
            400,
            envelope(
                "date_not_covered",
                "The licence covers works published 10 March 2026 – 10 April 2026; 9 March "
                "2026 is outside that.",
                {"field": "published_on"},
            ),
        ),
        (
            {"url": "https://youtu.be/new", "published_on": "2026-03-11", "platform": "vk"},
            400,
            envelope(
                "platform_mismatch",
                "This link is on YouTube: choose YouTube, or let the platform be detected.",
                {"field": "platform"},
            ),
        ),
        (
            {"url": "https://youtu.be/new", "published_on": "2026-03-11", "track": "BM-9"},
            400,
            envelope(
                "track_unknown",
                "No published track has the catalogue code BM-9.",
                {"field": "track"},
            ),
        ),
        (
            {"url": "https://youtu.be/new", "published_on": "2026-03-11", "platform": "myspace"},
            400,
            envelope(
                "invalid_work",
                "The work is not valid: see details.",
                {
                    "platform": [
                        "Select a valid choice. myspace is not one of the available choices."
                    ]
                },
            ),
        ),
        (
            {"url": "", "published_on": "2026-03-11"},
            400,
            envelope(
                "invalid_work",
                "The work is not valid: see details.",
                {"url": ["This field is required."]},
            ),
        ),
        (
            {"url": "https://youtu.be/new\u202e", "published_on": "2026-03-11"},
            400,
            # Refused by the API's parser, before the form (core/text.py).
            envelope(
                "bidi_control",
                "The text holds the bidirectional control U+202E, which makes text read "
                "differently from what it is; remove it.",
            ),
        ),
    ],
)
def test_a_refused_work_says_why_and_changes_nothing(signed_in, scene, body, status, expected):
    response = post_work(signed_in, scene.subscription.number, body)

    assert response.status_code == status
    assert response.json() == expected
    assert list(CoveredUse.objects.values_list("url", flat=True)) == ["https://youtu.be/abc"]


@pytest.mark.parametrize(
    "body",
    [
        {"published_on": "2026-03-11"},
        {"url": "https://youtu.be/new", "published_on": "11.03.2026"},
        {"url": "https://youtu.be/new", "published_on": "2026-02-30"},
        {"url": ["https://youtu.be/new"], "published_on": "2026-03-11"},
        # A day only as the schema writes it: not seconds since 1970, nor a moment.
        {"url": "https://youtu.be/new", "published_on": 1773187200},
        {"url": "https://youtu.be/new", "published_on": "2026-03-11T00:00:00"},
        {"url": "https://youtu.be/new", "published_on": "20260311"},
    ],
)
def test_a_work_the_schema_refuses_is_a_422(signed_in, scene, body):
    response = post_work(signed_in, scene.subscription.number, body)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert CoveredUse.objects.count() == 1


def test_registering_a_work_needs_the_csrf_token(owner, scene):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.cookies["csrftoken"] = CSRF
    body = {"url": "https://youtu.be/new", "published_on": "2026-03-11"}

    refused = post_work(client, scene.subscription.number, body)
    accepted = client.post(
        f"/api/me/agreements/{scene.subscription.number}/works",
        body,
        content_type="application/json",
        headers={"X-CSRFToken": CSRF},
    )

    assert refused.status_code == 403
    assert refused.json() == envelope(
        "csrf_failed",
        "The CSRF check failed: send the csrftoken cookie and the same value in the X-CSRFToken "
        "header.",
    )
    assert accepted.status_code == 201
    assert CoveredUse.objects.filter(url="https://youtu.be/new").count() == 1


def test_a_form_body_that_cannot_be_read_gets_the_envelope(owner, scene):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.cookies["csrftoken"] = CSRF

    response = client.post(
        f"/api/me/agreements/{scene.subscription.number}/works",
        b"url=x",
        content_type="multipart/form-data",
        headers={"X-CSRFToken": CSRF},
    )

    assert response.status_code == 400
    assert response.json() == envelope(
        "body_unreadable", "The request's body could not be read as a form."
    )
    assert CoveredUse.objects.count() == 1


def test_my_orders_and_one_order_with_its_invoice_lines_and_renewal(signed_in, scene):
    # Renewal opens in the paid month's last week.
    with clock.frozen_at(PAID + timedelta(days=28)):
        renewal = orders.renewal_order_place(
            user=scene.user,
            agreement=scene.subscription,
            currency="EUR",
            payment_method=PaymentMethod.BANK_TRANSFER,
            accept_terms_edition_id=terms_edition().pk,
            ip="203.0.113.7",
            user_agent=BROWSER,
        ).order

    listed = signed_in.get("/api/me/orders").json()
    company = signed_in.get(f"/api/me/orders/{scene.order.public_id}").json()
    renewing = signed_in.get(f"/api/me/orders/{renewal.public_id}").json()

    assert [order["public_id"] for order in listed] == [
        renewal.public_id,
        scene.order.public_id,
        Agreement.objects.get(pk=scene.subscription.pk).order_line.order.public_id,
    ]
    public_id = scene.order.public_id
    venue = scene.order.lines.get().plan_edition
    assert company == {
        "public_id": public_id,
        "status": "awaiting_payment",
        "buyer_kind": "legal",
        "currency": "RUB",
        "payment_method": "bank_transfer",
        "net_total": "1980.00",
        "vat_total": "396.00",
        "gross_total": "2376.00",
        "created_at": "2026-03-10T12:00:00Z",
        "paid_at": None,
        "closed_at": None,
        "invoice_number": "2026-000001",
        "page_url": f"/orders/{public_id}/",
        "terms_edition_hash": terms_edition().content_hash,
        "terms_accepted_at": "2026-03-10T12:00:00Z",
        "payment_reference": f"BM {public_id}",
        "invoice_pdf_url": f"/orders/{public_id}/invoice.pdf",
        "lines": [
            {
                "position": 1,
                "plan_code": venue.plan.code,
                "plan_version": "1",
                "plan_title_en": venue.title_en,
                "plan_title_ru": venue.title_ru,
                "plan_edition_hash": venue.content_hash,
                "track": None,
                "quantity": 2,
                "use_description": "Cafe, Moscow",
                "unit_price": "990.00",
                "net_amount": "1980.00",
                "vat_rate": "20.00",
                "vat_amount": "396.00",
                "gross_amount": "2376.00",
                "renews": None,
                "renews_until": None,
            }
        ],
        "payments": [],
    }
    assert (renewing["buyer_kind"], renewing["invoice_number"], renewing["invoice_pdf_url"]) == (
        "natural",
        None,
        None,
    )
    assert [
        (line["renews"], line["renews_until"], line["gross_amount"]) for line in renewing["lines"]
    ] == [(scene.subscription.number, "2026-05-10T12:00:00Z", "11.88")]


def test_an_unknown_order_is_not_found(signed_in, scene):
    response = signed_in.get("/api/me/orders/no-such-order")

    assert response.status_code == 404
    assert response.json() == envelope("not_found", "You have no order with this number.")


def test_my_downloads_name_the_licence_each_was_made_under(signed_in, scene):
    response = signed_in.get("/api/me/downloads")

    assert response.status_code == 200
    city_run = {
        "slug": "city-run",
        "title": "City Run",
        "catalogue_code": "BM-0002",
        "page_url": "/catalog/city-run/",
    }
    assert response.json() == {
        "items": [
            {
                "at": "2026-03-10T14:00:00Z",
                "kind": "mp3_320",
                "track": city_run,
                "agreement_number": scene.subscription.number,
            },
            {
                # The single-track licence before the catalogue subscription.
                "at": "2026-03-10T13:00:00Z",
                "kind": "flac",
                "track": {
                    "slug": "morning-light",
                    "title": "Morning Light",
                    "catalogue_code": "BM-0001",
                    "page_url": "/catalog/morning-light/",
                },
                "agreement_number": scene.single.number,
            },
            {
                "at": "2026-03-09T12:00:00Z",
                "kind": "mp3_320",
                "track": city_run,
                "agreement_number": None,
            },
        ],
        "total": 3,
        "page": 1,
        "page_size": 50,
    }


def test_a_revoked_licence_still_names_the_downloads_it_allowed(signed_in, scene):
    agreements.agreement_revoke(
        actor=None, agreement=scene.subscription, reason="Refunded", now=NOW
    )
    download(scene.user, scene.other_track, NOW + timedelta(minutes=1), kind="flac")

    items = signed_in.get("/api/me/downloads?page_size=2").json()
    second = signed_in.get("/api/me/downloads?page=2&page_size=2").json()

    assert [(i["at"], i["agreement_number"]) for i in items["items"]] == [
        ("2026-03-12T12:01:00Z", None),
        ("2026-03-10T14:00:00Z", scene.subscription.number),
    ]
    assert (items["total"], items["page"], items["page_size"]) == (4, 1, 2)
    assert [(i["at"], i["agreement_number"]) for i in second["items"]] == [
        ("2026-03-10T13:00:00Z", scene.single.number),
        ("2026-03-09T12:00:00Z", None),
    ]
    beyond = signed_in.get("/api/me/downloads?page=3&page_size=2").json()
    assert (beyond["items"], beyond["total"]) == ([], 4)


@pytest.mark.parametrize("query", ["page=0", "page_size=101", "page_size=x", "page=10001"])
def test_a_downloads_page_out_of_range_is_a_422(signed_in, scene, query):
    response = signed_in.get(f"/api/me/downloads?{query}")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
