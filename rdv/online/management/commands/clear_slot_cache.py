"""Invalidate every entry of the slot cache (rdv.online.slotcache), in every process and on every
host: new versions for every espace. For data written outside the services (bulk imports, shell)."""

from django.core.management.base import BaseCommand

from rdv.online import slotcache
from rdv.territories.models import Territory


class Command(BaseCommand):
    help = "Invalide toutes les entrées du cache des créneaux (nouvelles versions pour chaque espace)."

    def handle(self, *args, **options):
        ids = list(Territory.objects.values_list("pk", flat=True))
        slotcache.bump((slotcache.TERRITORY, pk, slotcache.ALL_WEEKS) for pk in ids)
        self.stdout.write(f"Cache des créneaux invalidé pour {len(ids)} espace(s).")
