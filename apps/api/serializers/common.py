"""Serializers shared by several endpoints: the error body and small reusable fields."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.core.validators import validate_alias, validate_tag

# Database integers are 64-bit signed; a larger number names nothing.
MAX_ID = 2**63 - 1


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable, machine-readable error code.")
    message = serializers.CharField(help_text="What failed and what to do about it.")
    field = serializers.CharField(
        allow_null=True, help_text="The request field the error applies to, or null."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class TagListField(serializers.ListField):
    """A list of tag names, each checked by the shared tag rules."""

    child = serializers.CharField(max_length=128, validators=[validate_tag], trim_whitespace=False)

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)


class AliasListField(serializers.ListField):
    """A list of alias names, each checked by the shared alias rules."""

    child = serializers.CharField(
        max_length=128, validators=[validate_alias], trim_whitespace=False
    )

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)


def name_field(validator, **kwargs) -> serializers.CharField:
    """Build a name field checked by a shared validator, keeping whitespace so it is rejected."""
    return serializers.CharField(trim_whitespace=False, validators=[validator], **kwargs)


def run_validator(validator, value):
    """Call a shared validator and convert its Django error into a DRF one."""
    try:
        return validator(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages[0]) from None
