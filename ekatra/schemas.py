"""The base marshmallow schema: unknown fields are ignored, so existing clients keep working;
responses are dumped by a plan made once per schema (`BaseSchema._serialize`)."""

from __future__ import annotations

from collections.abc import Callable

from marshmallow import EXCLUDE, Schema, fields, missing
from marshmallow.utils import _get_value_for_key


def _value_of(obj, key: str):
    """marshmallow's `get_value` for a plain key: a dict's item, or else an attribute."""
    if type(obj) is dict:
        value = obj.get(key, missing)
        return getattr(obj, key, missing) if value is missing else value
    return _get_value_for_key(obj, key, missing)


def _as_is(value):
    return value


def _converter(field: fields.Field) -> Callable | None:
    """A function from a value (never `missing`) to what `field` dumps it as (`_as_is` where
    the field dumps every value unchanged), or None where the field is not a plain one (it then
    dumps itself)."""
    if isinstance(field, fields.Nested):
        schema = field.schema
        many = schema.many or field.many
        if not isinstance(schema, BaseSchema) or schema._has_dump_hooks():
            return lambda value: None if value is None else schema.dump(value, many=many)
        dump_one = schema._dump_plan_function()
        if many:
            return lambda value: None if value is None else [dump_one(item) for item in value]
        return lambda value: None if value is None else dump_one(value)
    if type(field) is fields.List:
        inner = _converter(field.inner)
        if inner is None:
            serialize = field.inner._serialize
            return lambda value: None if value is None else [serialize(item, None, None) for item in value]
        return lambda value: None if value is None else [inner(item) for item in value]
    if isinstance(field, fields.Nested | fields.Pluck | fields.Method | fields.Function):
        return None
    serialize = field._serialize
    method = type(field)._serialize
    if method is fields.Field._serialize:  # Boolean, Raw, Dict without key or value fields: as is
        return _as_is
    # A value already of the field's type dumps as itself (String's str(), Integer's int()).
    if method is fields.String._serialize:
        return lambda value: value if value.__class__ is str else serialize(value, None, None)
    if method is fields.Number._serialize and type(field).num_type is int and not field.as_string:
        return lambda value: value if value.__class__ is int else serialize(value, None, None)
    return lambda value: serialize(value, None, None)


class BaseSchema(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    def _has_dump_hooks(self) -> bool:
        return any(self._hooks[(tag, many)] for tag in ("pre_dump", "post_dump") for many in (False, True))

    def _dump_plan_function(self) -> Callable:
        """Dump one object as `Schema._serialize` does, field by field, with each field's
        accessor and formatter looked up once per schema instead of on every value.

        Plain fields (a key or attribute without dots, a formatter that uses only the value)
        are read and formatted directly; nested schemas without hooks are inlined; any other
        field serialises itself, as marshmallow does."""
        plan_function = self.__dict__.get("_ekatra_dump_plan")
        if plan_function is not None:
            return plan_function
        steps = []
        for name, field in self.dump_fields.items():
            key = field.data_key if field.data_key is not None else name
            attribute = field.attribute or name
            convert = _converter(field) if field._CHECK_ATTRIBUTE and "." not in attribute else None
            if convert is None or field.dump_default is not missing:
                steps.append((key, name, None, field))
            else:
                steps.append((key, attribute, convert, None))
        accessor = self.get_attribute

        def dump_one(obj) -> dict:
            data = {}
            for key, attribute, convert, field in steps:
                if convert is not None:
                    value = _value_of(obj, attribute)
                    if value is not missing:
                        data[key] = value if convert is _as_is else convert(value)
                else:
                    value = field.serialize(attribute, obj, accessor=accessor)
                    if value is not missing:
                        data[key] = value
            return data

        self.__dict__["_ekatra_dump_plan"] = dump_one
        return dump_one

    def _serialize(self, obj, *, many: bool = False):
        if many and obj is not None:
            dump_one = self._dump_plan_function()
            return [dump_one(item) for item in obj]
        return self._dump_plan_function()(obj)


class MessageSchema(BaseSchema):
    message = fields.String(metadata={"example": "success"})


class ErrorSchema(BaseSchema):
    message = fields.String(metadata={"example": "Course not found!!"})
    errors = fields.Dict(metadata={"example": {"name": ["Missing data for required field."]}})
