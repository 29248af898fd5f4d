"""Policy pages: the privacy policy and the user agreement in force, every edition at its own
address, the notice's "I have read it", and staff publishing of new editions."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backgroundmusic.core import clock
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.core.request_info import client_ip, truncate_ip, user_agent_family
from backgroundmusic.privacy import editions, policies
from backgroundmusic.privacy.forms import AcknowledgeForm, EditionForm
from backgroundmusic.privacy.models import DocumentKind, PolicyEdition
from backgroundmusic.staffroles.selectors import staff_may_publish_policy


@dataclass(frozen=True)
class KindUrls:
    current: str
    editions: str
    edition: str


URLS = {
    DocumentKind.PRIVACY_POLICY: KindUrls(
        "privacy:policy", "privacy:policy_editions", "privacy:policy_edition"
    ),
    DocumentKind.TERMS_OF_USE: KindUrls(
        "privacy:terms", "privacy:terms_editions", "privacy:terms_edition"
    ),
}


def edition_url(edition: PolicyEdition) -> str:
    return reverse(URLS[DocumentKind(edition.kind)].edition, args=[edition.version])


def _status(edition: PolicyEdition, current: PolicyEdition | None) -> str:
    if current is not None and edition.pk == current.pk:
        return "current"
    if edition.effective_at > clock.now():
        return "upcoming"
    return "superseded"


def _not_published(kind: DocumentKind) -> Http404:
    label = str(dict(DocumentKind.choices)[kind]).lower()
    return Http404(_("No edition of the %(document)s is in force yet.") % {"document": label})


def _document_page(
    request: HttpRequest, *, edition: PolicyEdition, kind: DocumentKind
) -> HttpResponse:
    current = editions.current_edition(kind=kind)
    return render(
        request,
        "privacy/policy.html",
        {
            "doc": policies.edition_localized(edition=edition, language=get_language()),
            "edition": edition,
            "current": current,
            "status": _status(edition, current),
            "urls": URLS[kind],
            "kind": kind,
        },
    )


@require_GET
def document_current(request: HttpRequest, kind: DocumentKind) -> HttpResponse:
    """/privacy-policy/ and /terms-of-use/: the edition in force."""
    edition = editions.current_edition(kind=kind)
    if edition is None:
        raise _not_published(kind)
    return _document_page(request, edition=edition, kind=kind)


@require_GET
def document_edition(request: HttpRequest, kind: DocumentKind, version: str) -> HttpResponse:
    """Each published edition at its own address, forever."""
    edition = editions.edition_by_version(kind=kind, version=version)
    if edition is None:
        raise Http404(_("There is no published edition with this version."))
    return _document_page(request, edition=edition, kind=kind)


@require_GET
def document_editions(request: HttpRequest, kind: DocumentKind) -> HttpResponse:
    """Every published edition of the document, newest first."""
    current = editions.current_edition(kind=kind)
    language = get_language()
    rows = []
    for edition in editions.editions_list(kind=kind).defer("body_en", "body_ru"):
        localized = policies.edition_localized(edition=edition, language=language)
        rows.append(
            {
                "edition": edition,
                "title": localized.title,
                "summary": localized.change_summary,
                "status": _status(edition, current),
            }
        )
    return render(
        request,
        "privacy/editions.html",
        {
            "rows": rows,
            "kind": kind,
            "document": str(dict(DocumentKind.choices)[kind]).lower(),
            "urls": URLS[kind],
            "current": current,
        },
    )


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@login_required
@require_POST
def acknowledge(request: AuthenticatedRequest) -> HttpResponse:
    """The notice's button: records that the user read (privacy policy) or accepts (user
    agreement) the edition in force, then goes back to the page they were on."""
    form = AcknowledgeForm(request.POST)
    back = _safe_next(request, request.POST.get("next", ""))
    if not form.is_valid():
        messages.error(
            request, _("Nothing was recorded: the form was incomplete. Please try again.")
        )
        return HttpResponseRedirect(back)
    edition = PolicyEdition.objects.filter(
        pk=form.cleaned_data["edition"], published_at__isnull=False
    ).first()
    if edition is None:
        messages.error(request, _("Nothing was recorded: there is no such published edition."))
        return HttpResponseRedirect(back)
    try:
        policies.edition_acknowledge(
            user=request.user,
            edition=edition,
            request_ip_truncated=truncate_ip(client_ip(request)),
            user_agent_family=user_agent_family(request),
        )
    except policies.EditionError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(back)
    if edition.kind == DocumentKind.TERMS_OF_USE:
        messages.success(
            request,
            _(
                "Thank you: your acceptance of version %(version)s of the user agreement is "
                "recorded."
            )
            % {"version": edition.version},
        )
    else:
        messages.success(
            request,
            _(
                "Thank you: we have recorded that you read version %(version)s of the privacy "
                "policy."
            )
            % {"version": edition.version},
        )
    return HttpResponseRedirect(back)


def _start_from(kind: str | None) -> dict[str, object]:
    """Initial form data: a copy of the text in force, to edit into the next edition."""
    if kind not in DocumentKind.values:
        return {"kind": DocumentKind.PRIVACY_POLICY}
    current = editions.current_edition(kind=DocumentKind(kind))
    if current is None:
        return {"kind": kind}
    return {
        "kind": kind,
        "title_en": current.title_en,
        "title_ru": current.title_ru,
        "body_en": current.body_en,
        "body_ru": current.body_ru,
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_policies(request: HttpRequest) -> HttpResponse:
    """/staff/policies/: the editions of both documents, and publishing a new one with a preview
    (privacy officer)."""
    if not staff_may_publish_policy(actor=request.user):
        raise PermissionDenied
    preview = None
    if request.method == "POST":
        form = EditionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if request.POST.get("action") == "publish":
                try:
                    edition = policies.edition_publish(
                        actor=request.user,
                        kind=data["kind"],
                        version=data["version"],
                        title_en=data["title_en"],
                        title_ru=data["title_ru"],
                        body_en=data["body_en"],
                        body_ru=data["body_ru"],
                        change_summary_en=data["change_summary_en"],
                        change_summary_ru=data["change_summary_ru"],
                        effective_at=data["effective_at"],
                        material_purposes=data["material_purposes"],
                    )
                except policies.EditionError as error:
                    form.add_error(None, error.message)
                else:
                    messages.success(
                        request,
                        _("Version %(version)s is published; it can no longer be changed.")
                        % {"version": edition.version},
                    )
                    # To the list (not back to the form's anchor), where the message shows.
                    return HttpResponseRedirect(reverse("privacy:staff_policies") + "#editions")
            else:
                preview = {
                    "en": policies.markdown_html(data["body_en"]),
                    "ru": policies.markdown_html(data["body_ru"]),
                    "purposes": policies.material_purpose_labels(
                        purposes=data["material_purposes"]
                    ),
                }
    else:
        form = EditionForm(initial=_start_from(request.GET.get("start")))
    return render(
        request,
        "staff/policies.html",
        {
            "form": form,
            "preview": preview,
            "documents": [
                {
                    "kind": kind,
                    "label": label,
                    "urls": URLS[DocumentKind(kind)],
                    "current": editions.current_edition(kind=DocumentKind(kind)),
                    "editions": editions.editions_list(kind=kind).defer("body_en", "body_ru"),
                }
                for kind, label in DocumentKind.choices
            ],
            "now_utc": clock.now(),
        },
    )
