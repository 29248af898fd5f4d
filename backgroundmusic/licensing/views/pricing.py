"""/pricing/: the plans on sale and what each covers; /pricing/<code>/: one plan's full terms and
the way into the cart; /licence-terms/: the licence terms in force and every edition of them.

The "Add to cart" form posts to the URL named "licensing:cart_add", which the checkout pages
provide; until that URL exists the plan page shows no form (`cart_add_url` is None).
"""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from backgroundmusic.core import clock
from backgroundmusic.core.markdown import markdown_html
from backgroundmusic.licensing import editions
from backgroundmusic.licensing.models import (
    Currency,
    LicenceTermsEdition,
    PlanEdition,
    QuantityUnit,
    Scope,
    Term,
    Territory,
    Use,
)
from backgroundmusic.licensing.money import line_amounts, money_display
from backgroundmusic.licensing.orders import (
    PLAN_KINDS_NAMING_USE,
    USE_DESCRIPTION_MAX,
    track_for_sale,
)


def _is_russian(language: str | None) -> bool:
    return bool(language) and str(language).lower().startswith("ru")


@dataclass(frozen=True)
class Price:
    """One unit of an edition for one term in one currency: before VAT, the VAT, and with it."""

    currency: str
    net: str
    vat: str
    gross: str


def edition_prices(edition: PlanEdition, *, language: str | None) -> list[Price]:
    """The price of one unit in roubles and in euros, as money_display shows it in `language`."""
    language = language or "en"
    prices = []
    for currency in (Currency.RUB, Currency.EUR):
        amounts = line_amounts(edition=edition, currency=currency, quantity=1)
        prices.append(
            Price(
                currency=currency,
                net=money_display(amounts.net.amount, currency, language=language),
                vat=money_display(amounts.vat.amount, currency, language=language),
                gross=money_display(amounts.gross.amount, currency, language=language),
            )
        )
    return prices


def price_unit(edition: PlanEdition) -> str:
    """What one price pays for: "per month", "per location per month", "one payment"."""
    if edition.term == Term.PERPETUAL:
        return _("one payment, for good")
    if edition.quantity_unit == QuantityUnit.LOCATION:
        return _("per location per month")
    return _("per month")


def quantity_text(edition: PlanEdition) -> str:
    """How many units one order of the edition may take, or "" when it is exactly one."""
    least, most = edition.min_quantity, edition.max_quantity
    if edition.quantity_unit == QuantityUnit.LOCATION:
        if least == most:
            return ngettext("%(count)d location", "%(count)d locations", most) % {"count": most}
        return ngettext(
            "%(least)d to %(count)d location", "%(least)d to %(count)d locations", most
        ) % {"least": least, "count": most}
    if most == 1:
        return ""
    if least == most:
        return ngettext("%(count)d licence", "%(count)d licences", most) % {"count": most}
    return ngettext("%(least)d to %(count)d licence", "%(least)d to %(count)d licences", most) % {
        "least": least,
        "count": most,
    }


@dataclass(frozen=True)
class PlanOffer:
    """An edition on sale, in one language, ready to show."""

    edition: PlanEdition
    code: str
    title: str
    description_html: SafeString
    uses: list[str]
    territory: str
    scope: str
    term: str
    quantity: str
    unit: str
    prices: list[Price]


def plan_offer(edition: PlanEdition, *, language: str | None) -> PlanOffer:
    russian = _is_russian(language)
    use_labels = dict(Use.choices)
    return PlanOffer(
        edition=edition,
        code=edition.plan.code,
        title=edition.title_ru if russian else edition.title_en,
        description_html=markdown_html(
            edition.description_ru if russian else edition.description_en
        ),
        uses=[str(use_labels.get(use, use)) for use in edition.uses],
        territory=str(Territory(edition.territory).label),
        scope=str(Scope(edition.scope).label),
        term=str(Term(edition.term).label),
        quantity=quantity_text(edition),
        unit=price_unit(edition),
        prices=edition_prices(edition, language=language),
    )


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    """Every plan on sale, with what it covers and its price with VAT."""
    language = get_language()
    offers = [plan_offer(e, language=language) for e in editions.current_plan_editions()]
    return render(request, "licensing/pricing.html", {"offers": offers})


def _cart_add_url() -> str | None:
    try:
        return reverse("licensing:cart_add")
    except NoReverseMatch:
        return None


# The shape of a track's slug in the URL of its page; anything else names no track.
TRACK_SLUG = re.compile(r"[-a-z0-9_]{1,220}")


@require_GET
def pricing_plan(request: HttpRequest, code: str) -> HttpResponse:
    """One plan on sale: its full terms and the form that puts it into the cart. A plan for one
    track takes the track from `?track=<slug>` (the track page's "License this track" link)
    and, without one, sends the buyer to choose it in the catalogue."""
    edition = editions.current_plan_edition(code=code)
    if edition is None:
        raise Http404(_("There is no such plan on sale."))
    track = None
    if edition.scope == Scope.TRACK:
        slug = request.GET.get("track", "")
        if TRACK_SLUG.fullmatch(slug):
            track = track_for_sale(slug=slug)
    return render(
        request,
        "licensing/pricing_plan.html",
        {
            "offer": plan_offer(edition, language=get_language()),
            "terms": editions.current_terms_edition(),
            "cart_add_url": _cart_add_url(),
            # A venue's or a project's licence is for a named place or project: asked here, or
            # the cart would refuse the first "Add to cart".
            "names_use": edition.plan.kind in PLAN_KINDS_NAMING_USE,
            "use_description_max": USE_DESCRIPTION_MAX,
            "needs_track": edition.scope == Scope.TRACK,
            "track": track,
        },
    )


@require_GET
def track_licence(request: HttpRequest, slug: str) -> HttpResponse:
    """A track page's "License this track": the plan for one track on sale now, for this track."""
    edition = editions.current_track_plan_edition()
    if edition is None:
        raise Http404(_("No licence for a single track is on sale now."))
    url = reverse("licensing:pricing_plan", args=[edition.plan.code])
    return HttpResponseRedirect(f"{url}?{urlencode({'track': slug})}")


def _terms_page(
    request: HttpRequest, edition: LicenceTermsEdition, current: LicenceTermsEdition | None
) -> HttpResponse:
    russian = _is_russian(get_language())
    if current is not None and edition.pk == current.pk:
        status = "current"
    elif edition.effective_at > clock.now():
        status = "upcoming"
    else:
        status = "superseded"
    return render(
        request,
        "licensing/pricing_terms.html",
        {
            "edition": edition,
            "title": edition.title_ru if russian else edition.title_en,
            "body_html": markdown_html(edition.body_ru if russian else edition.body_en),
            "current": current,
            "status": status,
            "editions": editions.terms_editions(),
        },
    )


@require_GET
def licence_terms(request: HttpRequest) -> HttpResponse:
    """The licence terms in force: what a buyer accepts at checkout."""
    edition = editions.current_terms_edition()
    if edition is None:
        raise Http404(_("No edition of the licence terms is in force yet."))
    return _terms_page(request, edition, edition)


@require_GET
def licence_terms_edition(request: HttpRequest, version: str) -> HttpResponse:
    """Every edition of the licence terms at its own address, forever: agreements name them."""
    edition = editions.terms_edition_by_version(version=version)
    if edition is None:
        raise Http404(_("There is no published edition with this version."))
    return _terms_page(request, edition, editions.current_terms_edition())
