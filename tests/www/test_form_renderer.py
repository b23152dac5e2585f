"""Every form of the product renders through one renderer per process (rdv.www.forms.base.form_renderer):
django-dsfr gives each form a renderer, so a template engine, of its own, and its widget templates
were compiled again at every form shown."""

from django import forms
from django.template import base as template_base
from dsfr.forms import DsfrDjangoTemplates

from rdv.www.forms.base import DsfrForm, form_renderer


class PersonForm(DsfrForm):
    first_name = forms.CharField(label="Prénom")
    email = forms.EmailField(label="E-mail", required=False)
    birth_date = forms.DateField(
        label="Date de naissance", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    agrees = forms.BooleanField(label="J'accepte", required=False)


def test_forms_share_one_renderer_and_one_engine():
    first, second = PersonForm(), PersonForm(data={"first_name": ""})
    assert first.renderer is second.renderer is form_renderer()
    assert first.renderer.engine is second.renderer.engine


def test_a_form_shown_again_compiles_no_template(monkeypatch):
    str(PersonForm(data={"email": "x"}))  # the first form of the process compiles its templates
    compiled = []
    original = template_base.Template.__init__

    def counting(self, *args, **kwargs):
        compiled.append(args[0] if args else "")
        original(self, *args, **kwargs)

    monkeypatch.setattr(template_base.Template, "__init__", counting)
    html = str(PersonForm(data={"first_name": "", "email": "pas-un-email"}))
    assert "Prénom" in html and "fr-input" in html  # rendered, with its errors
    assert compiled == []


def test_the_shared_renderer_writes_what_a_renderer_of_its_own_wrote():
    data = {"first_name": "", "email": "pas-un-email", "birth_date": "2001-02-03"}
    shared = str(PersonForm(data=data))
    own = str(PersonForm(data=data, renderer=DsfrDjangoTemplates()))
    assert shared == own
    assert "Saisissez une adresse de courriel valide." in shared
