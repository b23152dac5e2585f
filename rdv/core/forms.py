from django import forms
from dsfr.forms import DsfrBaseForm


class _DsfrContext:
    def get_context(self) -> dict:
        # Skip DsfrBaseForm.get_context, which only adds transitional deprecation warnings.
        context = forms.BaseForm.get_context(self)
        context["DSFR_MARK_OPTIONAL_FIELDS"] = True
        return context


class DsfrForm(_DsfrContext, DsfrBaseForm):
    """A plain form rendered with the DSFR snippets (optional fields are marked)."""


class DsfrModelForm(_DsfrContext, DsfrBaseForm, forms.ModelForm):
    """A model form rendered with the DSFR snippets."""


def add_domain_error(form: forms.Form, error) -> None:
    """Attach a DomainError to the form, on its field when it names one the form has."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def submitted(request):
    """The data to bind a form to: the POST data on a POST (even an empty one: an all-unchecked form
    posts nothing but must still be validated and saved), None on a GET."""
    return request.POST if request.method == "POST" else None
