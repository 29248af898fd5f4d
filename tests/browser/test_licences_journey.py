"""The licence pages in Chromium: on a phone (390 px wide) no content is wider than the screen and
axe-core finds no violation, in English and Russian; the QR code of the certificate PDF opens the
/verify/ page in a fresh browser, which shows the licence valid."""

from datetime import timedelta

import pypdfium2
import pytest
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from playwright.sync_api import BrowserContext, Page

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement, BuyerKind, PlanKind, Use
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

PHONE = {"width": 390, "height": 844}


def signed_in(context: BrowserContext, base: str, user: User) -> None:
    client = Client()
    client.force_login(user)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def concluded(owner: User) -> list[Agreement]:
    single = plan_edition(
        kind=PlanKind.SINGLE_TRACK,
        uses=[Use.PROJECT],
        title_en="Single-track licence for one named project",
        title_ru="Лицензия на один трек для одного названного проекта",
    )
    paid_at = clock.now() - timedelta(hours=1)
    return agreements.agreements_conclude(
        order=paid_order(
            user=owner,
            lines=[
                {"edition": plan_edition(), "use_description": "https://youtube.com/@" + "a" * 60},
                {
                    "edition": single,
                    "track": ready_track(title="A rather long title of a calm piano piece"),
                },
            ],
            paid_at=paid_at,
            buyer_kind=BuyerKind.LEGAL,
            company_name="Limited Liability Company Very Long Name of a Coffee House Chain",
        ),
        now=paid_at,
    )


def problems(page: Page, url: str) -> list[str]:
    response = page.goto(url)
    assert response is not None
    if response.status != 200:
        return [f"{url}: answered {response.status}"]
    found = [
        f"{url}: {v['impact']} {v['id']} at {v['nodes'][0]['target']}"
        for v in Axe().run(page).response["violations"]
    ]
    # The page's own content; the site header is the layout's (base.html).
    # (a wide table scrolls in its own box).
    width, room = page.evaluate(
        "[document.querySelector('main#content').scrollWidth, "
        "document.querySelector('main#content').clientWidth]"
    )
    if width > room or room > PHONE["width"]:
        found.append(f"{url}: content {width} px wide in {room} px on a phone")
    return found


@pytest.mark.parametrize("locale", ["en-US", "ru-RU"])
def test_the_licence_pages_fit_a_phone_and_pass_axe(live_server, new_context, locale):
    owner = UserFactory.create(username="licensee")
    subscription, single = concluded(owner)
    agreements.agreement_revoke(actor=None, agreement=single, reason="refund", now=clock.now())
    base = live_server.url
    context = new_context(locale=locale)
    signed_in(context, base, owner)
    page = context.new_page()
    page.set_viewport_size(PHONE)
    paths = ["/licences/"]
    for agreement in (subscription, single):
        paths += [
            f"/licences/{agreement.number}/",
            f"/licences/{agreement.number}/agreement/",
            f"/licences/{agreement.number}/certificate/",
        ]
    found = [issue for path in paths for issue in problems(page, base + path)]
    visitor = new_context(locale=locale).new_page()
    visitor.set_viewport_size(PHONE)
    for agreement in (subscription, single):
        found += problems(visitor, f"{base}/verify/{agreement.certificate.public_id}/")
    staff = new_context(locale=locale)
    signed_in(staff, base, StaffFactory.create(role=StaffRole.LICENSING_MANAGER))
    manager = staff.new_page()
    manager.set_viewport_size(PHONE)
    for path in ("/staff/licensing/agreements/", f"/staff/licensing/agreements/{single.number}/"):
        found += problems(manager, base + path)
    assert found == []


def test_the_certificates_qr_code_opens_the_check_in_a_fresh_browser(
    live_server, new_context, settings
):
    settings.SITE_URL = live_server.url
    owner = UserFactory.create(username="licensee")
    subscription, _single = concluded(owner)
    client = Client()
    client.force_login(owner)
    pdf = client.get(f"/licences/{subscription.number}/certificate.pdf").content
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil()
    [code] = zxingcpp.read_barcodes(image)

    page = new_context().new_page()
    page.goto(code.text)

    assert page.url == f"{live_server.url}/verify/{subscription.certificate.public_id}/"
    assert page.locator(".certificate-status").inner_text().startswith("Valid")
    assert page.locator(".certificate-licensee").inner_text() == (
        "Limited Liability Company Very Long Name of a Coffee House Chain"
    )
