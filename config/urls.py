from django.contrib import admin
from django.urls import include, path

from rdv.api.main import api

admin.site.site_header = "Rendez-vous Public — opérateurs de la plateforme"
admin.site.site_title = "Opérateurs"

urlpatterns = [
    path("superadmin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("rdv.www.urls")),
]

handler400 = "rdv.www.views.errors.bad_request"
handler403 = "rdv.www.views.errors.permission_denied"
handler404 = "rdv.www.views.errors.not_found"
handler500 = "rdv.www.views.errors.server_error"
