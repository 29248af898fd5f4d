"""Licensing's public pages (views/), mounted at the site root: /pricing/, /cart/, /orders/,
/licences/, /verify/<id>/ and the payment providers' notifications."""

from django.urls import path

from backgroundmusic.licensing.views import coverage

app_name = "licensing"

urlpatterns: list = [
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
