"""Demo plans and licence terms for the embedded install (`manage.py seed_licensing`, run by
`make run`): the four plans of issue 11 with prices in roubles and euros and VAT at 22 %, and
the licence terms in terms_texts/. Published through the services as the system (actor None),
so each gets its audit row; idempotent: a plan that has an edition, or a terms version already
published, is left as it is."""

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from backgroundmusic.licensing.editions import (
    KIND_RULES,
    plan_create,
    plan_edition_publish,
    terms_edition_by_version,
    terms_edition_publish,
)
from backgroundmusic.licensing.models import (
    LicenceTermsEdition,
    Plan,
    PlanEdition,
    PlanKind,
    Territory,
    Use,
)

TERMS_TEXTS_DIR = Path(__file__).resolve().parent / "terms_texts"
TERMS_VERSION = "1"
# The standard rate of Russian VAT since 1 January 2026 (Tax Code art. 164, as amended in 2025).
DEMO_VAT_RATE = Decimal("22.00")


@dataclass(frozen=True)
class DemoPlan:
    code: str
    kind: PlanKind
    title_en: str
    title_ru: str
    description_en: str
    description_ru: str
    uses: tuple[Use, ...]
    territory: Territory
    max_quantity: int
    price_rub: Decimal
    price_eur: Decimal


DEMO_PLANS = (
    DemoPlan(
        code="creator",
        kind=PlanKind.CREATOR,
        title_en="Creator subscription",
        title_ru="Подписка для авторов",
        description_en=(
            "For videos and podcasts on **your own** channels: the whole catalogue, full tracks "
            "and downloads (MP3 320 and lossless) while you are subscribed.\n\n"
            "What you publish while subscribed stays covered after the subscription ends."
        ),
        description_ru=(
            "Для видео и подкастов на **ваших собственных** каналах: весь каталог, полные "
            "треки и скачивание (MP3 320 и без потерь), пока действует подписка.\n\n"
            "Всё, что вы опубликовали за время подписки, остаётся лицензированным и после её "
            "окончания."
        ),
        uses=(Use.ONLINE_VIDEO, Use.PODCAST),
        territory=Territory.WORLDWIDE,
        max_quantity=1,
        price_rub=Decimal("990.00"),
        price_eur=Decimal("10.00"),
    ),
    DemoPlan(
        code="business",
        kind=PlanKind.BUSINESS,
        title_en="Business subscription",
        title_ru="Подписка для бизнеса",
        description_en=(
            "For a company's channels and its advertising: the whole catalogue, full tracks "
            "and downloads while subscribed.\n\n"
            "What the company publishes while subscribed stays covered after the subscription "
            "ends."
        ),
        description_ru=(
            "Для каналов компании и её рекламы: весь каталог, полные треки и скачивание, пока "
            "действует подписка.\n\n"
            "Всё, что компания опубликовала за время подписки, остаётся лицензированным и после "
            "её окончания."
        ),
        uses=(Use.COMPANY_CHANNEL, Use.ADVERTISING),
        territory=Territory.WORLDWIDE,
        max_quantity=1,
        price_rub=Decimal("4900.00"),
        price_eur=Decimal("49.00"),
    ),
    DemoPlan(
        code="venue",
        kind=PlanKind.VENUE,
        title_en="Venue plan",
        title_ru="Тариф для заведений",
        description_en=(
            "Background music for cafés, shops, gyms and hotels: public performance of the "
            "whole catalogue, played through the service, priced per location per month.\n\n"
            "Name each location at checkout. The plan gives no downloads."
        ),
        description_ru=(
            "Фоновая музыка для кафе, магазинов, спортзалов и гостиниц: публичное исполнение "
            "всего каталога с воспроизведением через сервис, цена за точку в месяц.\n\n"
            "Каждую точку вы указываете при оформлении заказа. Скачивание не предусмотрено."
        ),
        uses=(Use.PUBLIC_PERFORMANCE,),
        territory=Territory.RUSSIA,
        max_quantity=50,
        price_rub=Decimal("1500.00"),
        price_eur=Decimal("15.00"),
    ),
    DemoPlan(
        code="single-track",
        kind=PlanKind.SINGLE_TRACK,
        title_en="Single-track licence",
        title_ru="Лицензия на один трек",
        description_en=(
            "One track for one named project (a film, a game, an advertisement, a "
            "presentation), in any medium, for good. The full track and its downloads stay "
            "available to you."
        ),
        description_ru=(
            "Один трек для одного названного проекта (фильм, игра, реклама, презентация) в "
            "любом формате, бессрочно. Полный трек и его скачивание остаются вам доступны."
        ),
        uses=(Use.PROJECT,),
        territory=Territory.WORLDWIDE,
        max_quantity=1,
        price_rub=Decimal("2490.00"),
        price_eur=Decimal("25.00"),
    ),
)


@transaction.atomic
def demo_plans_publish() -> list[PlanEdition]:
    """The demo plans, each with its first edition in force from now. A plan that already has
    an edition is left as it is."""
    editions = []
    for position, demo in enumerate(DEMO_PLANS, start=1):
        plan = Plan.objects.filter(code=demo.code).first() or plan_create(
            actor=None, code=demo.code, kind=demo.kind, position=position
        )
        existing = plan.editions.order_by("-effective_at", "-pk").first()
        if existing is not None:
            editions.append(existing)
            continue
        rule = KIND_RULES[demo.kind]
        editions.append(
            plan_edition_publish(
                actor=None,
                plan=plan,
                version="1",
                title_en=demo.title_en,
                title_ru=demo.title_ru,
                description_en=demo.description_en,
                description_ru=demo.description_ru,
                uses=demo.uses,
                territory=demo.territory,
                scope=rule.scope,
                term=rule.term,
                quantity_unit=rule.quantity_unit,
                min_quantity=1,
                max_quantity=demo.max_quantity,
                price_rub=demo.price_rub,
                price_eur=demo.price_eur,
                vat_rate=DEMO_VAT_RATE,
                effective_at=None,
            )
        )
    return editions


@transaction.atomic
def demo_terms_publish() -> LicenceTermsEdition:
    """The licence terms in terms_texts/, in force from now unless already published."""
    existing = terms_edition_by_version(version=TERMS_VERSION)
    if existing is not None:
        return existing
    return terms_edition_publish(
        actor=None,
        version=TERMS_VERSION,
        title_en="Licence terms",
        title_ru="Условия лицензии",
        body_en=(TERMS_TEXTS_DIR / f"licence-terms-{TERMS_VERSION}.en.md").read_text("utf-8"),
        body_ru=(TERMS_TEXTS_DIR / f"licence-terms-{TERMS_VERSION}.ru.md").read_text("utf-8"),
        effective_at=None,
    )
