"""Payload templates: rendering to JSON and the position of errors in a rejected template."""

import json

import pytest

from apps.automations import payloads

CONTEXT = {
    "event_type": "alias.added",
    "author": "mike",
    "alias": 'say "prod"\n',
    "version_index": 3,
    "metadata": {"auc": 0.9, "nested": {"a": [1, 2]}, "nan": float("nan")},
}


@pytest.mark.parametrize(
    ("template", "line", "column", "problem"),
    [
        ('{"a": {{ author }} "b": 1}', 1, 20, "Expecting ',' delimiter."),
        ('{\n  "a": 1,\n  "b": [1, 2,]\n}', 3, 14, "Expecting value."),
        ('{\n  "a": {{ author }},\n}', 3, 1, "Expecting property name enclosed in double quotes."),
        ('{"a": {{ author }}', 1, 19, "Expecting ',' delimiter."),
        ('{"a": {{ author }', 1, 8, "Expecting property name"),
        ("", None, None, "The payload template is empty"),
        ('{"a": {{ nope }}}', 1, 7, "'nope' is not a variable"),
        ('{"a": {{ metadata. }}}', 1, 7, "'metadata.' is not a variable"),
    ],
)
def test_template_error_position(template, line, column, problem):
    with pytest.raises(payloads.TemplateError) as raised:
        payloads.validate_template(template, CONTEXT)

    assert raised.value.line == line
    assert raised.value.column == column
    assert problem in raised.value.messages[0]


def test_values_outside_strings_are_json():
    body = payloads.render(
        '{"alias": {{ alias }}, "i": {{ version_index }}, "m": {{ metadata.nested }}}', CONTEXT
    )

    assert json.loads(body) == {"alias": 'say "prod"\n', "i": 3, "m": {"a": [1, 2]}}


def test_values_inside_strings_are_escaped():
    body = payloads.render(
        '{"text": "{{ author }} set {{ alias }} on v{{ version_index }} {{ metadata.nested }}"}',
        CONTEXT,
    )

    assert json.loads(body) == {"text": 'mike set say "prod"\n on v3 {"a": [1, 2]}'}


def test_escaped_quote_keeps_string_state():
    body = payloads.render('{"t": "a \\" {{ author }}", "u": {{ author }}}', CONTEXT)

    assert json.loads(body) == {"t": 'a " mike', "u": "mike"}


def test_missing_values_render_null_or_empty():
    body = payloads.render('{"tag": {{ tag }}, "text": "[{{ tag }}]", "k": {{ metadata.x }}}', {})

    assert json.loads(body) == {"tag": None, "text": "[]", "k": None}


def test_nan_metadata_renders_null():
    body = payloads.render('{"v": {{ metadata.nan }}}', CONTEXT)

    assert json.loads(body) == {"v": None}


def test_nan_literal_rejected():
    with pytest.raises(payloads.TemplateError) as raised:
        payloads.validate_template('{"v": NaN}', CONTEXT)

    assert "contains NaN, which JSON does not allow" in raised.value.messages[0]


def test_overlong_template_rejected():
    with pytest.raises(payloads.TemplateError) as raised:
        payloads.validate_template(f'"{"a" * 10_000}"', CONTEXT)

    assert "the limit is 10000" in raised.value.messages[0]


def test_default_template_is_valid():
    body = payloads.validate_template(payloads.DEFAULT_TEMPLATE, CONTEXT)

    assert json.loads(body)["event"] == "alias.added"
