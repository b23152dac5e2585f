from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "rdv.bookings"
    label = "bookings"
    verbose_name = "Rendez-vous"
