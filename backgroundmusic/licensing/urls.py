"""Licensing's public pages (views/), mounted at the site root: /pricing/, /cart/, /orders/,
/licences/, /verify/<id>/ and the payment providers' notifications."""

from django.urls import path

from backgroundmusic.licensing.views import licences, pricing, verify

app_name = "licensing"

urlpatterns: list = [
    # Plans on sale and the licence terms (views/pricing.py)
    path("pricing/", pricing.pricing, name="pricing"),
    path("pricing/<slug:code>/", pricing.pricing_plan, name="pricing_plan"),
    path("licence-terms/", pricing.licence_terms, name="terms"),
    path("licence-terms/<str:version>/", pricing.licence_terms_edition, name="terms_edition"),
    # licences: My licences and the public check of a certificate
    path("licences/", licences.licences, name="licences"),
    path("licences/<str:number>/", licences.licence, name="licence"),
    path("licences/<str:number>/cancel-renewal/", licences.cancel_renewal, name="cancel_renewal"),
    path("licences/<str:number>/agreement/", licences.agreement_document, name="agreement"),
    path("licences/<str:number>/agreement.pdf", licences.agreement_pdf, name="agreement_pdf"),
    path("licences/<str:number>/certificate/", licences.certificate, name="certificate"),
    path("licences/<str:number>/certificate.pdf", licences.certificate_pdf, name="certificate_pdf"),
    path("verify/<str:public_id>/", verify.verify, name="verify"),
]
