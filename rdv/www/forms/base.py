import functools

from django import forms
from django.utils.html import conditional_escape
from dsfr.forms import DsfrBaseForm, DsfrBoundField, DsfrDjangoTemplates

from rdv.core.dates import DATE_MAX, DATE_MIN, DATE_OUT_OF_RANGE


class _DsfrContext:
    def get_context(self) -> dict:
        # Skip DsfrBaseForm.get_context, which only adds transitional deprecation warnings.
        context = forms.BaseForm.get_context(self)
        context["DSFR_MARK_OPTIONAL_FIELDS"] = True
        return context


class BoundField(DsfrBoundField):
    """A DSFR bound field whose help text is HTML-escaped, unless it is marked safe.

    Django's and django-dsfr's field templates render help texts with `|safe`, and help texts are
    often built from what admins and agents typed (a custom field's help text, motif names…).
    Escaping here, once for every form, makes every help text plain text; a help text written with
    markup on purpose is built with `format_html` (or `mark_safe` on a constant) and is kept."""

    def __init__(self, form, field, name):
        super().__init__(form, field, name)
        self.help_text = conditional_escape(self.help_text)


@functools.cache
def form_renderer() -> DsfrDjangoTemplates:
    """The renderer of every form, one per process. django-dsfr's DsfrBaseForm gives each form a
    renderer of its own, so a template engine of its own, which compiled the widget templates
    again at every form shown (a third of the « Vos coordonnées » page's time)."""
    return DsfrDjangoTemplates()


class DsfrForm(_DsfrContext, DsfrBaseForm):
    """A plain form rendered with the DSFR snippets (optional fields are marked, help texts are
    escaped). Every form of the product derives from it (tests/www/test_escaping.py checks it)."""

    bound_field_class = BoundField

    @property
    def default_renderer(self):  # type: ignore[override]
        return form_renderer()


class ConditionallyRequired:
    """Fields shown as required (no « Optionnel ») without the HTML `required` attribute, because
    they are needed only in one case (an usager created on the RDV form, a relative on the public
    form). Mark them with `show_as_required(names)` in `__init__`; `required_now()` names those
    the submitted data needs; the others are relaxed while the fields are cleaned."""

    _shown_as_required: tuple = ()

    def show_as_required(self, names) -> None:
        self._shown_as_required = tuple(names)
        for name in self._shown_as_required:
            self.fields[name].required = True
            self.fields[name].widget.use_required_attribute = lambda initial: False
            self._bound_fields_cache.pop(name, None)

    def required_now(self) -> bool:
        return False

    def _clean_fields(self):
        relaxed = [] if self.required_now() else list(self._shown_as_required)
        for name in relaxed:
            self.fields[name].required = False
        try:
            super()._clean_fields()
        finally:
            for name in relaxed:
                self.fields[name].required = True


def set_help_text(form: forms.Form, name: str, text: str) -> None:
    """Change a field's help text after the DSFR form's __init__ (which caches the bound fields)."""
    form.fields[name].help_text = text
    form._bound_fields_cache.pop(name, None)


def max_length(model, name: str) -> int:
    """The length limit of a model field: the rule the services check, written once."""
    return model._meta.get_field(name).max_length


def too_long(what: str, limit: int) -> str:
    """« Le nom ne doit pas dépasser 200 caractères. »"""
    return f"{what} ne doit pas dépasser {limit} caractères."


def add_domain_error(form: forms.Form, error) -> None:
    """Attach a DomainError to the form, on its field when it names one the form has."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def submitted(request):
    """The data to bind a form to: the POST data on a POST (even an empty one: an all-unchecked form
    posts nothing but must still be validated and saved), None on a GET."""
    return request.POST if request.method == "POST" else None


class DateField(forms.DateField):
    """A date field that refuses dates outside DATE_MIN–DATE_MAX with a French message."""

    def validate(self, value):
        super().validate(value)
        if value and not DATE_MIN <= value <= DATE_MAX:
            raise forms.ValidationError(DATE_OUT_OF_RANGE, code="date_out_of_range")


def _check_integer_ids(field, values) -> None:
    # Django's pk lookups are not protected against ids beyond the database's integer range
    # (SQLite raises OverflowError: a 500): refuse them as unknown choices first.
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue  # Django reports it as an invalid value
        if not -(2**63) <= number < 2**63:
            raise forms.ValidationError(
                field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )


class ModelChoiceField(forms.ModelChoiceField):
    """A model choice field that answers an out-of-range id as an invalid choice, not a 500."""

    def to_python(self, value):
        if value not in self.empty_values:
            _check_integer_ids(self, [value])
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A model multiple choice field that answers out-of-range ids as invalid choices, not a 500."""

    def _check_values(self, value):
        _check_integer_ids(self, value)
        return super()._check_values(value)
