from django.contrib import admin

from rdv.core.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_repr", "action", "object_repr", "territory"]
    list_filter = ["action", "territory"]
    search_fields = ["object_repr", "actor_repr"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
