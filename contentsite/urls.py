from django.contrib import admin
from django.urls import include, path

from articles.admin import notification_settings_view
from articles.views import robots_txt, sitemap_index, sitemap_section
from triage.hazard_log import hazard_log

# A database outage met in a middleware is a 503 as well; anything else, Django's 500.
handler500 = "contentsite.middleware.server_error"
# What Django refuses before a view (a disallowed Host, an oversized body, a form not in UTF-8): under /api/, a
# problem detail; elsewhere the site's page, with the numbers to call for a reader.
handler400 = "contentsite.error_pages.bad_request"
# A refusal (PermissionDenied), on public and admin pages alike: the site's own page, in plain words.
handler403 = "contentsite.error_pages.permission_denied"

admin.site.site_header = "Clinical content administration"
admin.site.site_title = "Clinical content admin"

urlpatterns = [
    # First: a partner's request is resolved without trying every public and admin pattern before it
    # (none of them starts with api/v1/, so the order changes no answer).
    path("api/v1/", include("contentsite.api.urls", namespace="v1")),
    path("", include("articles.urls")),
    path("triage/", include("triage.urls")),
    path("feedback/", include("feedback.urls")),
    path("admin/triage/hazard-log/", hazard_log, name="triage-hazard-log"),
    path("admin/notifications/", admin.site.admin_view(notification_settings_view), name="admin-notifications"),
    path("admin/", admin.site.urls),
    path("sitemap.xml", sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemap_section, name="sitemap-section"),
    path("robots.txt", robots_txt, name="robots"),
]
