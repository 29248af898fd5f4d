"""Licensing's public pages (views/), mounted at the site root: /pricing/, /cart/, /orders/,
/licences/, /verify/<id>/ and the payment providers' notifications."""

from django.urls import path

from backgroundmusic.licensing.views import (
    cart,
    checkout,
    coverage,
    licences,
    notifications,
    orders,
    pricing,
    renewals,
    verify,
)

app_name = "licensing"

urlpatterns: list = [
    # Plans on sale and the licence terms (views/pricing.py)
    path("pricing/", pricing.pricing, name="pricing"),
    path("pricing/<slug:code>/", pricing.pricing_plan, name="pricing_plan"),
    path("pricing/track/<slug:slug>/", pricing.track_licence, name="track_licence"),
    path("licence-terms/", pricing.licence_terms, name="terms"),
    path("licence-terms/<str:version>/", pricing.licence_terms_edition, name="terms_edition"),
    # licences: My licences and the public check of a certificate
    path("licences/", licences.licences, name="licences"),
    path("licences/<str:number>/", licences.licence, name="licence"),
    path("licences/<str:number>/cancel-renewal/", licences.cancel_renewal, name="cancel_renewal"),
    path("licences/<str:number>/renew/", renewals.renew, name="renew"),
    path("licences/<str:number>/agreement/", licences.agreement_document, name="agreement"),
    path("licences/<str:number>/agreement.pdf", licences.agreement_pdf, name="agreement_pdf"),
    path("licences/<str:number>/certificate/", licences.certificate, name="certificate"),
    path("licences/<str:number>/certificate.pdf", licences.certificate_pdf, name="certificate_pdf"),
    path("verify/<str:public_id>/", verify.verify, name="verify"),
    # checkout: the cart, the checkout, orders, invoices, the providers' notifications
    path("cart/", cart.cart, name="cart"),
    path("cart/add/", cart.cart_add, name="cart_add"),
    path("cart/<int:line_id>/remove/", cart.cart_remove, name="cart_remove"),
    path("checkout/", checkout.checkout, name="checkout"),
    path("orders/", orders.order_list, name="orders"),
    path("orders/<str:public_id>/", orders.order_detail, name="order"),
    path("orders/<str:public_id>/pay/", orders.order_pay, name="order_pay"),
    path("orders/<str:public_id>/return/", orders.order_return, name="order_return"),
    path("orders/<str:public_id>/cancel/", orders.order_cancel, name="order_cancel"),
    path("orders/<str:public_id>/invoice.pdf", orders.order_invoice_pdf, name="order_invoice"),
    path(
        "payments/<str:provider>/notifications",
        notifications.notification,
        name="payment_notifications",
    ),
    path("licences/<slug:number>/coverage/", coverage.coverage_page, name="coverage"),
    path(
        "licences/<slug:number>/coverage/channels/",
        coverage.channel_add,
        name="coverage_channel_add",
    ),
    path(
        "licences/<slug:number>/coverage/channels/<int:channel_id>/remove/",
        coverage.channel_remove,
        name="coverage_channel_remove",
    ),
    path("licences/<slug:number>/coverage/uses/", coverage.use_add, name="coverage_use_add"),
    path(
        "licences/<slug:number>/coverage/uses/<int:use_id>/remove/",
        coverage.use_remove,
        name="coverage_use_remove",
    ),
    path("licences/<slug:number>/letter.pdf", coverage.coverage_letter, name="coverage_letter"),
]
