from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from rdv.accounts.models import Agent, AgentRole, AgentService, Invitation, TerritoryRole


class AgentRoleInline(admin.TabularInline):
    model = AgentRole
    extra = 0


class AgentServiceInline(admin.TabularInline):
    model = AgentService
    extra = 0


class TerritoryRoleInline(admin.TabularInline):
    model = TerritoryRole
    extra = 0
    verbose_name = "administrateur de l'espace"


@admin.register(Agent)
class AgentAdmin(UserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_superuser"]
    search_fields = ["email", "first_name", "last_name"]
    list_filter = ["is_active", "is_superuser"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Identité", {"fields": ["first_name", "last_name"]}),
        ("Droits plateforme", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [TerritoryRoleInline, AgentRoleInline, AgentServiceInline]
    filter_horizontal = []


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "territory", "sent_at", "expires_at", "accepted_at", "cancelled_at"]
    list_filter = ["territory"]
    search_fields = ["email"]
    readonly_fields = ["token_hash"]
