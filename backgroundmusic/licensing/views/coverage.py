"""The coverage page of a licence (/licences/<number>/coverage/) and its claim-clearing letter.
Only the licensee sees them: anyone else's request finds nothing (404). Thin: parse, call
licensing.coverage, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, get_supported_language_variant
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from backgroundmusic.core import clock
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.licensing import coverage
from backgroundmusic.licensing.coverage_forms import ChannelForm, UseForm
from backgroundmusic.licensing.models import Agreement, CoveredChannel, CoveredUse, Scope

LETTER_LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _agreement(request: AuthenticatedRequest, number: str) -> Agreement:
    try:
        return coverage.coverage_agreement_get(user=request.user, number=number)
    except coverage.CoverageNotFound as missing:
        raise Http404(missing.message) from None


def _channel_form(data: QueryDict | None = None) -> ChannelForm:
    return ChannelForm(data, prefix="channel")


def _use_form(agreement: Agreement, data: QueryDict | None = None) -> UseForm:
    return UseForm(data, prefix="use", track_fixed=agreement.scope == Scope.TRACK)


def _refusal_show(
    request: AuthenticatedRequest, form: ChannelForm | UseForm, refused: coverage.CoverageRefused
) -> None:
    """On the field it is about; a refusal of the whole licence (revoked, full) as a message,
    which shows whether or not the page still offers the form."""
    if refused.field is None:
        messages.error(request, refused.message)
    else:
        form.add_error(refused.field, refused.message)


def _page(
    request: AuthenticatedRequest,
    agreement: Agreement,
    *,
    channel_form: ChannelForm | None = None,
    use_form: UseForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "licensing/coverage.html",
        {
            "coverage": coverage.coverage_of(agreement=agreement, now=clock.now()),
            "channel_form": channel_form or _channel_form(),
            "use_form": use_form or _use_form(agreement),
            "letter_languages": LETTER_LANGUAGES,
        },
    )


@login_required
@never_cache
@require_GET
def coverage_page(request: AuthenticatedRequest, number: str) -> HttpResponse:
    return _page(request, _agreement(request, number))


@login_required
@require_POST
def channel_add(request: AuthenticatedRequest, number: str) -> HttpResponse:
    agreement = _agreement(request, number)
    form = _channel_form(request.POST)
    if form.is_valid():
        try:
            coverage.channel_add(
                user=request.user,
                agreement=agreement,
                platform=form.cleaned_data["platform"],
                url=form.cleaned_data["url"],
            )
        except coverage.CoverageRefused as refused:
            _refusal_show(request, form, refused)
        else:
            messages.success(request, _("The channel is registered."))
            return redirect("licensing:coverage", number=agreement.number)
    return _page(request, agreement, channel_form=form)


@login_required
@require_POST
def channel_remove(request: AuthenticatedRequest, number: str, channel_id: int) -> HttpResponse:
    agreement = _agreement(request, number)
    channel = CoveredChannel.objects.filter(agreement=agreement, pk=channel_id).first()
    if channel is None:
        raise Http404(_("There is no such channel."))
    coverage.channel_remove(user=request.user, channel=channel)
    messages.success(request, _("The channel is removed."))
    return redirect("licensing:coverage", number=agreement.number)


@login_required
@require_POST
def use_add(request: AuthenticatedRequest, number: str) -> HttpResponse:
    agreement = _agreement(request, number)
    form = _use_form(agreement, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            code = data.get("track", "")
            coverage.use_add(
                user=request.user,
                agreement=agreement,
                platform=data["platform"],
                url=data["url"],
                published_on=data["published_on"],
                title=data["title"],
                track=coverage.track_by_code(code=code) if code else None,
            )
        except coverage.CoverageRefused as refused:
            _refusal_show(request, form, refused)
        else:
            messages.success(request, _("The published work is registered."))
            return redirect("licensing:coverage", number=agreement.number)
    return _page(request, agreement, use_form=form)


@login_required
@require_POST
def use_remove(request: AuthenticatedRequest, number: str, use_id: int) -> HttpResponse:
    agreement = _agreement(request, number)
    use = CoveredUse.objects.filter(agreement=agreement, pk=use_id).first()
    if use is None:
        raise Http404(_("There is no such published work."))
    coverage.use_remove(user=request.user, use=use)
    messages.success(request, _("The published work is removed."))
    return redirect("licensing:coverage", number=agreement.number)


@login_required
@never_cache
@require_GET
def coverage_letter(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """The letter as a PDF shown in the browser, in the language asked for (?language=ru) or
    the page's."""
    agreement = _agreement(request, number)
    asked = request.GET.get("language", "")
    language = (
        asked if asked in LETTER_LANGUAGES else get_supported_language_variant(get_language())
    )
    try:
        pdf = coverage.letter_pdf(agreement=agreement, language=language)
    except coverage.CoverageRefused as refused:
        raise Http404(refused.message) from None
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = content_disposition_header(
        False, f"licence-{agreement.number}-coverage-{language}.pdf"
    )
    assert disposition is not None  # None only without a file name
    response["Content-Disposition"] = disposition
    return response
