from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "rdv.bookings"
    label = "bookings"
    verbose_name = "Rendez-vous"

    def ready(self):
        from rdv.bookings import metrics
        from rdv.bookings.policies import delivery_subject
        from rdv.core.metrics import register_gauges
        from rdv.outbox.policies import register_subject

        register_subject("bookings.Rdv", delivery_subject())
        register_gauges("bookings", metrics.gauges)
