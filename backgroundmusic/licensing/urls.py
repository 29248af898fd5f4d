"""Licensing's public pages (views/), mounted at the site root: /pricing/, /cart/, /orders/,
/licences/, /verify/<id>/ and the payment providers' notifications."""

from django.urls import path

from backgroundmusic.licensing.views import pricing

app_name = "licensing"

urlpatterns: list = [
    # Plans on sale and the licence terms (views/pricing.py)
    path("pricing/", pricing.pricing, name="pricing"),
    path("pricing/<slug:code>/", pricing.pricing_plan, name="pricing_plan"),
    path("licence-terms/", pricing.licence_terms, name="terms"),
    path("licence-terms/<str:version>/", pricing.licence_terms_edition, name="terms_edition"),
]
