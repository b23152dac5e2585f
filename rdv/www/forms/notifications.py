from django import forms

from rdv.notifications.models import RdvLevel
from rdv.www.forms.base import DsfrForm


class AgentNotificationsForm(DsfrForm):
    rdv_level = forms.ChoiceField(
        label="Être prévenu(e) par e-mail des changements de mes rendez-vous",
        choices=RdvLevel.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez les changements de rendez-vous dont vous voulez être prévenu(e).",
            "invalid_choice": "Choisissez une des options proposées.",
        },
    )
    plages_and_absences = forms.BooleanField(
        label="Être prévenu(e) par e-mail quand quelqu'un d'autre modifie mes plages d'ouverture ou mes absences",
        required=False,
    )
