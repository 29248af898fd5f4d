"""The pricing pages, the licence terms pages and the staff pages of plans: who may open them,
what they show in both languages, and the staff forms (prefilled, previewed, kept on error)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import NoReverseMatch, reverse

from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing import demo, editions
from backgroundmusic.licensing.models import LicenceTermsEdition, Plan, PlanEdition
from tests.callers import CALLERS, STAFF_WITHOUT_TWO_FACTOR

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
TOTP_ACTIVATE = "/accounts/2fa/totp/activate/"
STAFF_PAGES = [
    "/staff/licensing/plans/",
    "/staff/licensing/plans/new/",
    "/staff/licensing/plans/venue/editions/new/",
    "/staff/licensing/plans/terms/new/",
]
PUBLIC_PAGES = ["/pricing/", "/pricing/venue/", "/licence-terms/", "/licence-terms/1/"]


@pytest.fixture(autouse=True)
def seeded():
    with clock.frozen_at(NOW):
        demo.demo_terms_publish()
        demo.demo_plans_publish()
        yield


def domain_state() -> tuple[Any, ...]:
    """Everything a staff action could change; the staff.denied rows a refusal writes aside."""
    return (
        list(Plan.objects.order_by("pk").values_list("code", "is_offered")),
        list(PlanEdition.objects.order_by("pk").values_list("pk", flat=True)),
        list(LicenceTermsEdition.objects.order_by("pk").values_list("pk", flat=True)),
        list(AuditEvent.objects.exclude(action="staff.denied").values_list("pk", flat=True)),
    )


def edition_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": "publish",
        "version": "2",
        "effective_at": "",
        "title_en": "Venue plan",
        "title_ru": "Тариф для заведений",
        "description_en": "Music for venues.",
        "description_ru": "Музыка для заведений.",
        "uses": ["public_performance"],
        "territory": "RU",
        "min_quantity": "1",
        "max_quantity": "100",
        "price_rub": "1700.00",
        "price_eur": "17.00",
        "vat_rate": "20.00",
    }
    data.update(overrides)
    return data


def terms_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": "publish",
        "version": "2",
        "effective_at": "2027-01-01T00:00",
        "title_en": "Licence terms",
        "title_ru": "Условия лицензии",
        "body_en": "## Parties\n\nUs and you.",
        "body_ru": "## Стороны\n\nМы и вы.",
    }
    data.update(overrides)
    return data


STAFF_POSTS: dict[str, dict[str, Any]] = {
    "/staff/licensing/plans/new/": {"code": "gyms", "kind": "venue", "position": "9"},
    "/staff/licensing/plans/venue/editions/new/": edition_post(),
    "/staff/licensing/plans/terms/new/": terms_post(),
    "/staff/licensing/plans/venue/withdraw/": {},
}


def expected_status(kind: str, allowed: int) -> int:
    if kind == "anonymous":
        return 302
    if kind == STAFF_WITHOUT_TWO_FACTOR:
        return 302
    return allowed if kind == "licensing_manager" else 403


@pytest.mark.parametrize("path", STAFF_PAGES)
@pytest.mark.parametrize("kind", [*CALLERS, STAFF_WITHOUT_TWO_FACTOR])
def test_only_licensing_managers_open_the_staff_pages(kind, path, caller_for):
    response = caller_for(kind).client.get(path)
    assert response.status_code == expected_status(kind, 200)
    if kind == "anonymous":
        assert response["Location"] == f"/accounts/login/?next={path}"
    if kind == STAFF_WITHOUT_TWO_FACTOR:
        assert response["Location"] == TOTP_ACTIVATE


@pytest.mark.parametrize("path", sorted(STAFF_POSTS))
@pytest.mark.parametrize("kind", [*CALLERS, STAFF_WITHOUT_TWO_FACTOR])
def test_only_licensing_managers_change_plans_and_a_refusal_changes_nothing(kind, path, caller_for):
    client = caller_for(kind).client
    before = domain_state()
    with clock.frozen_at(NOW + timedelta(minutes=5)):
        response = client.post(path, STAFF_POSTS[path])
    assert response.status_code == expected_status(kind, 302)
    if kind != "licensing_manager":
        assert domain_state() == before
        return
    assert domain_state() != before
    assert response["Location"] in {
        "/staff/licensing/plans/gyms/editions/new/",
        "/staff/licensing/plans/#plan-venue",
        "/staff/licensing/plans/#terms",
    }


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("kind", CALLERS)
def test_everyone_may_read_the_pricing_and_the_licence_terms(kind, path, caller_for):
    assert caller_for(kind).client.get(path).status_code == 200


def plan_cards(html: str) -> list[str]:
    return re.findall(r'<section class="plan-card" id="([a-z0-9-]+)"', html)


def test_the_pricing_page_shows_each_plan_with_what_it_covers_and_its_price_with_vat(client):
    html = client.get("/pricing/").content.decode()
    assert plan_cards(html) == ["creator", "business", "venue", "single-track"]
    venue = html[html.index('id="venue"') : html.index('id="single-track"')]
    for text in (
        "Venue plan",
        "Public performance at a venue",
        "Russian Federation",
        "The whole catalogue",
        "Monthly subscription, renewed by paying each month",
        "1 to 50 locations",
        "1,830.00\xa0RUB",
        "1,500.00\xa0RUB + VAT 22 % (330.00\xa0RUB)",
        "18.30\xa0EUR",
        "15.00\xa0EUR + VAT 22 % (3.30\xa0EUR)",
        "per location per month",
        'href="/pricing/venue/"',
    ):
        assert text in venue, text
    single = html[html.index('id="single-track"') :]
    assert "3,037.80\xa0RUB" in single
    assert "one payment, for good" in single
    assert "One named project in any medium" in single
    assert 'href="/licence-terms/"' in html


def test_the_pricing_page_in_russian(client):
    html = client.get("/pricing/", headers={"accept-language": "ru"}).content.decode()
    venue = html[html.index('id="venue"') : html.index('id="single-track"')]
    for text in (
        "Тариф для заведений",
        "Публичное исполнение в заведении",
        "Российская Федерация",
        "Весь каталог",
        "от 1 до 50 точек",
        "1\xa0830,00\xa0₽",
        "1\xa0500,00\xa0₽ + НДС 22 % (330,00\xa0₽)",
        "за точку в месяц",
        "Выбрать",
    ):
        assert text in venue, text


def test_a_withdrawn_plan_leaves_the_pricing_and_its_page_answers_404(client):
    editions.plan_withdraw(actor=None, plan=Plan.objects.get(code="venue"))
    assert plan_cards(client.get("/pricing/").content.decode()) == [
        "creator",
        "business",
        "single-track",
    ]
    assert client.get("/pricing/venue/").status_code == 404
    assert client.get("/pricing/no-such-plan/").status_code == 404


def cart_add_url() -> str | None:
    try:
        return reverse("licensing:cart_add")
    except NoReverseMatch:
        return None


def test_a_plan_page_shows_its_full_terms_and_the_way_into_the_cart(client):
    edition = editions.current_plan_edition(code="venue")
    assert edition is not None
    html = client.get("/pricing/venue/").content.decode()
    assert f'data-edition="{edition.pk}"' in html
    assert "Name each location at checkout. The plan gives no downloads." in html
    assert edition.content_hash in html
    assert 'href="/licence-terms/1/"' in html
    # The checkout pages name the cart's URL; without them the page offers no form.
    url = cart_add_url()
    if url is None:
        assert 'class="add-to-cart"' not in html
    else:
        form = html[html.index('class="add-to-cart"') :]
        assert f'action="{url}"' in html
        assert f'name="edition" value="{edition.pk}"' in form
        assert 'name="quantity" value="1" min="1" max="50"' in form


USE_FIELD = (
    '<input type="text" id="use_description" name="use_description" maxlength="300" required '
    'aria-describedby="use_description_help">'
)


@pytest.mark.parametrize(
    ("code", "asks"),
    [("creator", False), ("business", False), ("venue", True), ("single-track", True)],
)
def test_a_plan_whose_licence_names_its_place_or_project_asks_for_it(client, code, asks):
    ready_track(title="Harbour Lights", slug="harbour-lights")
    query = "?track=harbour-lights" if code == "single-track" else ""
    html = client.get(f"/pricing/{code}/{query}").content.decode()
    assert (USE_FIELD in html) == asks
    assert ("For a venue: its name and address. For a single track: the project." in html) == asks


CHOOSE_TRACK = "This licence is for one track. Open the track in the catalogue"


def test_a_track_page_leads_to_the_single_track_licence_for_that_track(client):
    ready_track(title="Harbour Lights", slug="harbour-lights")
    track_page = client.get("/catalog/harbour-lights/").content.decode()
    assert '<a href="/pricing/track/harbour-lights/">License this track for one project</a>' in (
        track_page
    )
    response = client.get("/pricing/track/harbour-lights/")
    assert (response.status_code, response["Location"]) == (
        302,
        "/pricing/single-track/?track=harbour-lights",
    )
    html = client.get(response["Location"]).content.decode()
    form = html[html.index('class="add-to-cart"') :]
    assert '<input type="hidden" name="track" value="harbour-lights">' in form
    assert 'Track: <a href="/catalog/harbour-lights/">Harbour Lights</a>' in form
    assert CHOOSE_TRACK not in html


@pytest.mark.parametrize(
    "query", ["", "?track=", "?track=no-such-track", "?track=draft-piece", "?track=%E2%80%AEx"]
)
def test_the_single_track_licence_without_a_track_for_sale_sends_to_the_catalogue(client, query):
    ready_track(title="Draft piece", slug="draft-piece", published=False)
    response = client.get(f"/pricing/single-track/{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert CHOOSE_TRACK in html
    assert 'class="add-to-cart"' not in html


def test_without_a_single_track_licence_on_sale_the_track_link_answers_404(client):
    editions.plan_withdraw(actor=None, plan=Plan.objects.get(code="single-track"))
    assert client.get("/pricing/track/harbour-lights/").status_code == 404


def test_a_draft_track_page_offers_no_licence(caller_for):
    ready_track(title="Draft piece", slug="draft-piece", published=False)
    page = caller_for("content_manager").client.get("/catalog/draft-piece/")
    assert page.status_code == 200
    assert "/pricing/track/" not in page.content.decode()


def test_the_licence_terms_in_force_and_each_edition_at_its_own_address(client):
    upcoming = NOW + timedelta(days=30)
    with clock.frozen_at(NOW):
        editions.terms_edition_publish(
            actor=None,
            version="2",
            title_en="Licence terms",
            title_ru="Условия лицензии",
            body_en="New terms.",
            body_ru="Новые условия.",
            effective_at=upcoming,
        )
        current = client.get("/licence-terms/").content.decode()
        assert 'data-version="1" data-status="current"' in current
        assert "What no licence allows" in current
        assert 'data-status="upcoming"' in client.get("/licence-terms/2/").content.decode()
        russian = client.get("/licence-terms/", headers={"accept-language": "ru"})
        assert "Чего не разрешает ни одна лицензия" in russian.content.decode()
    with clock.frozen_at(upcoming):
        assert 'data-status="superseded"' in client.get("/licence-terms/1/").content.decode()
        assert (
            'data-version="2" data-status="current"'
            in client.get("/licence-terms/").content.decode()
        )
    assert client.get("/licence-terms/9/").status_code == 404


def test_the_staff_list_shows_every_plan_with_its_editions_and_the_terms(caller_for):
    venue = Plan.objects.get(code="venue")
    with clock.frozen_at(NOW + timedelta(hours=1)):
        editions.plan_withdraw(actor=None, plan=Plan.objects.get(code="business"))
        client = caller_for("licensing_manager").client
        html = client.get("/staff/licensing/plans/").content.decode()
    assert re.findall(r'<section class="staff-plan" id="plan-([a-z0-9-]+)"', html) == [
        "creator",
        "business",
        "venue",
        "single-track",
    ]
    section = html[html.index('id="plan-venue"') : html.index('id="plan-single-track"')]
    assert 'data-version="1" data-status="current"' in section
    assert "1500.00" in section
    assert f'action="/staff/licensing/plans/{venue.code}/withdraw/"' in section
    business = html[html.index('id="plan-business"') : html.index('id="plan-venue"')]
    assert "withdrawn" in business
    assert 'action="/staff/licensing/plans/business/offer/"' in business
    terms = html[html.index('id="terms"') :]
    assert 'data-version="1" data-status="current"' in terms


def test_a_new_edition_starts_from_the_one_in_force_and_previews_its_price(caller_for):
    client = caller_for("licensing_manager").client
    html = client.get("/staff/licensing/plans/venue/editions/new/").content.decode()
    assert 'name="title_en" value="Venue plan"' in html
    assert 'name="price_rub" value="1500.00"' in html
    assert 'name="max_quantity" value="50"' in html
    assert re.findall(
        r'<input type="checkbox" name="uses" value="([a-z_]+)"[^>]*?( checked)?>', html
    ) == [("public_performance", " checked")]
    before = PlanEdition.objects.count()
    preview = client.post(
        "/staff/licensing/plans/venue/editions/new/",
        edition_post(action="preview", price_rub="1234.56", vat_rate="20"),
    )
    page = preview.content.decode()
    assert preview.status_code == 200
    # 1234.56 + 20 % = 1234.56 + 246.91 (246.912 rounded half up)
    assert "1,481.47\xa0RUB" in page
    assert "1,234.56\xa0RUB + VAT 20 % (246.91\xa0RUB)" in page
    assert 'name="price_rub" value="1234.56"' in page
    assert PlanEdition.objects.count() == before


def test_publishing_a_plan_edition_from_the_staff_page(caller_for):
    member = caller_for("licensing_manager")
    with clock.frozen_at(NOW + timedelta(minutes=5)):
        response = member.client.post(
            "/staff/licensing/plans/venue/editions/new/", edition_post(), follow=True
        )
        assert "Version 2 of the plan venue is published" in response.content.decode()
        edition = editions.current_plan_edition(code="venue")
    assert edition is not None
    assert (edition.version, edition.price_rub, edition.max_quantity, edition.published_by_id) == (
        "2",
        Decimal("1700.00"),
        100,
        member.user.pk if member.user else None,
    )


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"version": "1"}, "Version 1 of the plan venue is already published"),
        ({"min_quantity": "200"}, "(given: 200 to 100)"),
        ({"price_rub": "12.345"}, "Ensure that there are no more than 2 decimal places."),
        ({"price_rub": "lots"}, "Enter a number."),
        ({"uses": ["podcast"]}, "Select a valid choice. podcast is not one of the available"),
        ({"title_en": "Bad\u202etitle"}, "bidi"),
    ],
)
def test_a_refused_plan_edition_keeps_what_was_typed(overrides, error, caller_for):
    client = caller_for("licensing_manager").client
    before = domain_state()
    with clock.frozen_at(NOW + timedelta(minutes=5)):
        response = client.post(
            "/staff/licensing/plans/venue/editions/new/",
            edition_post(description_en="Typed *text*.", **overrides),
        )
    html = response.content.decode()
    assert response.status_code == 400
    assert error in html
    assert "Typed *text*." in html
    assert 'name="price_eur" value="17.00"' in html
    assert domain_state() == before


def test_publishing_the_licence_terms_from_the_staff_page(caller_for):
    client = caller_for("licensing_manager").client
    html = client.get("/staff/licensing/plans/terms/new/").content.decode()
    assert "What no licence allows" in html  # a copy of the terms in force
    preview = client.post("/staff/licensing/plans/terms/new/", terms_post(action="preview"))
    assert '<h2 id="parties">Parties</h2>' in preview.content.decode()
    refused = client.post("/staff/licensing/plans/terms/new/", terms_post(version="1"))
    assert refused.status_code == 400
    assert "Version 1 of the licence terms is already published" in refused.content.decode()
    assert "Us and you." in refused.content.decode()
    response = client.post("/staff/licensing/plans/terms/new/", terms_post())
    assert response["Location"] == "/staff/licensing/plans/#terms"
    assert editions.terms_edition_by_version(version="2") is not None


def test_creating_a_plan_from_the_staff_page(caller_for):
    client = caller_for("licensing_manager").client
    taken = client.post(
        "/staff/licensing/plans/new/", {"code": "venue", "kind": "venue", "position": "1"}
    )
    assert taken.status_code == 400
    assert "There is already a plan with the code venue." in taken.content.decode()
    response = client.post(
        "/staff/licensing/plans/new/", {"code": "gyms", "kind": "venue", "position": "9"}
    )
    assert response["Location"] == "/staff/licensing/plans/gyms/editions/new/"
    page = client.get(response["Location"]).content.decode()
    assert 'value="public_performance"' in page
    assert 'value="online_video"' not in page


def test_withdrawing_twice_says_so(caller_for):
    client = caller_for("licensing_manager").client
    client.post("/staff/licensing/plans/venue/withdraw/")
    response = client.post("/staff/licensing/plans/venue/withdraw/", follow=True)
    assert "The plan venue is already withdrawn from sale." in response.content.decode()
    assert client.post("/staff/licensing/plans/nothing/withdraw/").status_code == 404
    assert client.get("/staff/licensing/plans/venue/withdraw/").status_code == 405


def test_the_staff_pages_in_russian(caller_for):
    client = caller_for("licensing_manager").client
    html = client.get(
        "/staff/licensing/plans/venue/editions/new/", headers={"accept-language": "ru"}
    ).content.decode()
    assert "Новая редакция venue" in html
    assert "Публичное исполнение в заведении" in html
    listing = client.get("/staff/licensing/plans/", headers={"accept-language": "ru"})
    assert "Снять с продажи" in listing.content.decode()


def test_the_demo_seeding_is_idempotent_and_embedded_only(settings):
    settings.EMBEDDED = True
    before = domain_state()
    out = StringIO()
    with clock.frozen_at(NOW + timedelta(days=1)):
        call_command("seed_licensing", stdout=out)
    assert domain_state() == before
    assert out.getvalue() == (
        "Demo plans: creator 1, business 1, venue 1, single-track 1; licence terms 1.\n"
    )
    assert [
        (e.plan.code, e.price_rub, e.price_eur, e.vat_rate)
        for e in editions.current_plan_editions()
    ] == [
        ("creator", Decimal("990.00"), Decimal("10.00"), Decimal("22.00")),
        ("business", Decimal("4900.00"), Decimal("49.00"), Decimal("22.00")),
        ("venue", Decimal("1500.00"), Decimal("15.00"), Decimal("22.00")),
        ("single-track", Decimal("2490.00"), Decimal("25.00"), Decimal("22.00")),
    ]
    settings.EMBEDDED = False
    with pytest.raises(CommandError):
        call_command("seed_licensing", stdout=StringIO())
