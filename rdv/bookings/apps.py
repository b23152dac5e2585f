from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "rdv.bookings"
    label = "bookings"
    verbose_name = "Rendez-vous"

    def ready(self):
        from rdv.bookings.policies import delivery_subject
        from rdv.outbox.policies import register_subject

        register_subject("bookings.Rdv", delivery_subject())
