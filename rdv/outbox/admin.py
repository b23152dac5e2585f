from django.contrib import admin

from rdv.outbox.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Read-only view for platform operators (messages without an espace, such as password resets)."""

    list_display = ["id", "channel", "purpose", "recipient", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "channel", "purpose"]
    search_fields = ["recipient", "message_id"]
    exclude = ["text", "html", "attachments"]  # single-use links and personal content stay out of sight

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
