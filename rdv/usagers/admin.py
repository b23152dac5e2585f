from django.contrib import admin

from rdv.usagers.models import CustomField, Usager


@admin.register(Usager)
class UsagerAdmin(admin.ModelAdmin):
    """Read-only: usager files are changed by agents through the service functions."""

    list_display = ["last_name", "first_name", "birth_date", "territory", "created_at"]
    list_filter = ["territory"]
    search_fields = ["search_text"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "kind", "territory", "required", "position", "archived_at"]
    list_filter = ["territory", "kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
