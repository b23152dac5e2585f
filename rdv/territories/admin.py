from django.contrib import admin

from rdv.territories.models import Organisation, Service, Territory, TerritoryService


class OrganisationInline(admin.TabularInline):
    model = Organisation
    extra = 1


class TerritoryServiceInline(admin.TabularInline):
    model = TerritoryService
    extra = 1
    verbose_name = "service activé"


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "departement_number", "time_zone", "created_at"]
    search_fields = ["name"]
    inlines = [OrganisationInline, TerritoryServiceInline]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "territory"]
    list_filter = ["territory"]
    search_fields = ["name"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "is_secretariat"]
    search_fields = ["name"]
