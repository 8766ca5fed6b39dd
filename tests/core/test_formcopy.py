"""A form's fields copied per instance by core/formcopy.py are the copies Django's deepcopy makes."""

from __future__ import annotations

import copy
from typing import Any

from django import forms

from closeloop.complaints.forms import RegistrationForm
from closeloop.core.formcopy import QuickCopyFields, quick_field_copies


@quick_field_copies
class _Sample(forms.Form):
    name = forms.CharField(max_length=10, widget=forms.TextInput(attrs={"class": "x"}))
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    when = forms.SplitDateTimeField()  # MultiValueField: its own __deepcopy__, copied as Django does
    number = forms.TypedChoiceField(choices=[(1, "one")], coerce=int)


def _compare(ours: forms.Field, django: forms.Field, original: forms.Field) -> None:
    assert type(ours) is type(django) is type(original)
    assert ours is not original and ours.widget is not original.widget
    assert ours.__dict__.keys() == django.__dict__.keys()
    assert ours.widget.__dict__.keys() == django.widget.__dict__.keys()
    assert ours.widget.attrs == django.widget.attrs and ours.widget.attrs is not original.widget.attrs
    assert ours.error_messages == django.error_messages and ours.error_messages is not original.error_messages
    assert ours.validators == django.validators and ours.validators is not original.validators
    for name, value in original.__dict__.items():
        if name not in ("widget", "error_messages", "validators", "_choices", "fields"):
            assert ours.__dict__[name] is value, name  # the rest is shared, as copy.copy shares it
    if isinstance(original, forms.ChoiceField):
        assert isinstance(ours, forms.ChoiceField) and isinstance(django, forms.ChoiceField)
        assert list(ours.choices) == list(django.choices) and ours.choices is not original.choices
        assert list(ours.widget.choices) == list(original.widget.choices)
        assert ours.widget.choices is not original.widget.choices


def test_copies_are_djangos_for_every_field_of_the_registration_form_and_a_sample() -> None:
    for form_class in (RegistrationForm, _Sample):
        assert isinstance(form_class.base_fields, QuickCopyFields)
        ours = copy.deepcopy(form_class.base_fields)
        django = copy.deepcopy(dict(form_class.base_fields))
        assert type(ours) is dict and ours.keys() == django.keys()
        for name, field in form_class.base_fields.items():
            _compare(ours[name], django[name], field)


def test_an_instance_changes_its_own_fields_only() -> None:
    one, two = _Sample(), _Sample()
    one.fields["name"].widget.attrs["class"] = "changed"
    one.fields["kind"].choices = [("c", "C")]
    one.fields["when"].fields[0].label = "changed"
    assert (
        two.fields["name"].widget.attrs == {"class": "x", "maxlength": "10"} == _Sample.base_fields["name"].widget.attrs
    )
    assert list(two.fields["kind"].choices) == [("a", "A"), ("b", "B")]
    assert list(two.fields["kind"].widget.choices) == [("a", "A"), ("b", "B")]
    assert two.fields["when"].fields[0].label is None


def test_a_field_met_twice_is_copied_once() -> None:
    shared = forms.CharField()
    fields: Any = QuickCopyFields({"a": shared, "b": shared})
    copied = copy.deepcopy(fields)
    assert copied["a"] is copied["b"] is not shared
