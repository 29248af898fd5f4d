from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from backgroundmusic.core.http import AuthenticatedRequest


@login_required
@require_GET
def privacy_center(request: AuthenticatedRequest) -> HttpResponse:
    """One page for every right the person has; each section is an inclusion tag of its area."""
    return render(request, "privacy/center.html")
