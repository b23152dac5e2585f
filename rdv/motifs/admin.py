from django.contrib import admin

from rdv.motifs.models import Motif


@admin.register(Motif)
class MotifAdmin(admin.ModelAdmin):
    """Read-only: motifs change through the application (rules and audit log live there)."""

    list_display = ["name", "organisation", "service", "location_type", "bookable_online", "archived_at"]
    list_filter = ["location_type", "bookable_online", "organisation__territory"]
    search_fields = ["name", "organisation__name"]
    list_select_related = ["organisation", "service"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
