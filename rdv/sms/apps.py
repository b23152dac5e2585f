from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "rdv.sms"
    label = "sms"
    verbose_name = "SMS"

    def ready(self):
        from rdv.outbox import channels, policies
        from rdv.outbox.models import Channel
        from rdv.sms import channel

        channels.register(Channel.SMS)(channel.send_sms)
        channels.on_outcome(Channel.SMS)(channel.on_sms_outcome)
        policies.register_subject("sms.SmsSettings", channel.SETTINGS_SUBJECT)
