from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from backgroundmusic.api.api import api
from backgroundmusic.core import views as core_views
from backgroundmusic.home import views as home_views
from config.sitemaps import SITEMAPS, robots_txt

urlpatterns = [
    path("", home_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    # Prometheus, with METRICS_TOKEN only (core/metrics.py, decision 0042)
    path("metrics", core_views.metrics, name="metrics"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("contact/", core_views.contact, name="contact"),
    # What search engines may list (config/sitemaps.py)
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("allauth.urls")),
    path("", include("backgroundmusic.accounts.urls")),
    path("", include("backgroundmusic.privacy.urls")),
    path("staff/", include("backgroundmusic.accounts.staff_urls")),
    # Catalogue (catalog/urls.py, catalog/staff_urls.py)
    path("catalog/", include("backgroundmusic.catalog.urls")),
    path("staff/catalogue/", include("backgroundmusic.catalog.staff_urls")),
    # Ingest: the staff masters page (media/staff_urls.py)
    path("staff/catalogue/masters/", include("backgroundmusic.media.staff_urls")),
    # Streaming: signed audio URLs /stream/<token> (media/urls.py)
    path("", include("backgroundmusic.media.urls")),
    # Licensing: plans, checkout, licences, certificates (licensing/urls.py, staff_urls.py)
    path("", include("backgroundmusic.licensing.urls")),
    # Favourites and playlists of the signed-in person (library/urls.py)
    path("", include("backgroundmusic.library.urls")),
    path("staff/licensing/", include("backgroundmusic.licensing.staff_urls")),
    # Analytics: staff statistics (the beacon /a/e is answered by analytics/middleware.py)
    path("staff/analytics/", include("backgroundmusic.analytics.staff_urls")),
    # Newsletters: the unsubscribe page and the providers' webhooks (mailing/urls.py), the
    # newsletter editor's pages (mailing/staff_urls.py)
    path("mail/", include("backgroundmusic.mailing.urls")),
    # Letters by e-mail: the request confirmation page (inbox/urls.py); the providers' webhooks
    # through django-anymail, inbound letters (inbox/webhooks.py) and tracking events such as
    # bounces (mailing/webhooks.py), at /anymail/<provider>/inbound/ and .../tracking/
    path("", include("backgroundmusic.inbox.urls")),
    path("anymail/", include("anymail.urls")),
    path("staff/mailing/", include("backgroundmusic.mailing.staff_urls")),
    # The breach register (incidents/staff_urls.py)
    path("staff/incidents/", include("backgroundmusic.incidents.staff_urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
