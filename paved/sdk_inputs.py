"""Check recorded resource inputs against the provider SDK's typed input classes.

Pulumi's mock runtime hands ``Mocks.new_resource`` the engine-side (camelCase) inputs of a
resource. A key the provider does not know (a typo in a plain dict passed as a nested input, for
instance) is silently kept by the SDK and only fails, if at all, at deploy time. This module
walks those inputs against the ``@pulumi.input_type`` classes the SDK generates: the resource's
Args class and, recursively, the nested input types its property type hints name.

Everything derived from the SDK (which Args class, each class's engine names and property
shapes) is computed once per class and cached, so checking many resources is cheap.

The check errs on the side of silence: where a type is ``Any``, an untyped mapping, ambiguous
(several dict-like alternatives) or cannot be resolved, nothing below it is reported.
"""

from __future__ import annotations

import builtins
import collections.abc
import enum
import functools
import inspect
import re
import sys
import types
import typing
from dataclasses import dataclass
from typing import Any, Optional, Union

import pulumi
from pulumi import _types as pulumi_types

__all__ = ["check_inputs"]

# The attribute @pulumi.getter(name=...) stores the engine name under (pulumi/_types.py).
_PULUMI_NAME_ATTR = getattr(pulumi_types, "_PULUMI_NAME", "_pulumi_name")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

# Wire encoding of special values (pulumi/runtime/rpc.py, part of the engine protocol): the mock
# runtime passes e.g. a secret as {_SIG_KEY: _SECRET_SIG, "value": ...}, which is not an input key.
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"

_MAPPING_ORIGINS = {dict, collections.abc.Mapping, collections.abc.MutableMapping}
_SEQUENCE_ORIGINS = {list, tuple, collections.abc.Sequence, collections.abc.MutableSequence}
_SCALARS = (str, int, float, bool, bytes, type(None))


@dataclass(frozen=True)
class _Shape:
    """What a property's value may be checked against, dispatched on the value's JSON type.

    ``on_dict`` is an input-type class (check its keys) or a ``_MapOf`` (check each value);
    ``on_list`` is the shape of each element. ``None`` means "do not look inside".
    """

    on_dict: Union[type, "_MapOf", None] = None
    on_list: Optional["_Shape"] = None


@dataclass(frozen=True)
class _MapOf:
    values: _Shape


@dataclass(frozen=True)
class _Members:
    """Classification of the alternatives of one (possibly Union/Input-wrapped) type hint."""

    input_types: frozenset = frozenset()
    maps: tuple = ()
    lists: tuple = ()
    open_dict: bool = False  # some alternative (Any, object, unresolvable) accepts any dict
    open_list: bool = False  # ... or any list
    any_mapping: bool = False  # Mapping[str, Any]: the untyped form of an input type (InputType[T])
    typed_dicts: bool = False


def _flatten(hint: Any) -> list[Any]:
    """The alternatives of a hint, with Union/Optional/Input/Output/Awaitable peeled off."""
    if hint is None or hint is type(None):
        return []
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return [member for arg in typing.get_args(hint) for member in _flatten(arg)]
    if origin is pulumi.Output or origin in (collections.abc.Awaitable, typing.Awaitable):
        # Output[T] / Awaitable[T] carry the same T as the plain alternative of Input[T].
        return []
    if hint is pulumi.Output:
        return []
    return [hint]


def _classify(hint: Any) -> _Members:
    input_types: set[type] = set()
    maps: list[_Shape | None] = []
    lists: list[_Shape | None] = []
    open_dict = open_list = any_mapping = typed_dicts = False
    for member in _flatten(hint):
        origin = typing.get_origin(member)
        args = typing.get_args(member)
        if origin is typing.Literal or (isinstance(member, type) and (
                issubclass(member, _SCALARS) or issubclass(member, enum.Enum))):
            continue
        if isinstance(member, type) and pulumi_types.is_input_type(member):
            input_types.add(member)
        elif isinstance(member, type) and typing.is_typeddict(member):
            # The SDKs pair every FooArgs with a FooArgsDict TypedDict of the same fields.
            typed_dicts = True
        elif origin in _MAPPING_ORIGINS or member in _MAPPING_ORIGINS:
            value_hint = args[1] if len(args) == 2 else Any
            if value_hint is Any:
                any_mapping = True
            else:
                maps.append(_shape(value_hint))
        elif origin in _SEQUENCE_ORIGINS or member in _SEQUENCE_ORIGINS:
            if args and (origin is not tuple or len(args) == 2 and args[1] is Ellipsis):
                lists.append(_shape(args[0]))
            else:
                open_list = True
        else:
            # Any, object, unresolved forward refs, TypeVars, Asset/Archive, ...: unknown.
            open_dict = open_list = True
    return _Members(frozenset(input_types), tuple(maps), tuple(lists),
                    open_dict, open_list, any_mapping, typed_dicts)


def _shape(hint: Any) -> _Shape | None:
    """Reduce a resolved type hint to what can safely be checked inside a value of that type."""
    members = _classify(hint)
    on_dict: type | _MapOf | None = None
    if not members.open_dict:
        if len(members.input_types) == 1 and not members.maps:
            # InputType[T] = Union[T, Mapping[str, Any]] and FooArgsDict are both T's dict form.
            (on_dict,) = members.input_types
        elif not members.input_types and len(members.maps) == 1 and not (
                members.any_mapping or members.typed_dicts):
            map_values = members.maps[0]
            on_dict = _MapOf(map_values) if map_values is not None else None
    on_list = None
    if not members.open_list and len(members.lists) == 1:
        on_list = members.lists[0]
    if on_dict is None and on_list is None:
        return None
    return _Shape(on_dict, on_list)


def _globals_for(cls: type) -> dict[str, Any]:
    """Module globals to resolve a class's string annotations ("ClusterVpcConfigArgs",
    "_meta.v1.ObjectMetaArgs") in, merged along the MRO like pulumi/_types.py does."""
    namespace: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        module = sys.modules.get(base.__module__)
        if module is not None:
            namespace.update(vars(module))
    return namespace


@functools.cache
def _fields(input_cls: type) -> dict[str, _Shape | None]:
    """Engine (camelCase) property names of an input type -> shape of their values."""
    globalns = _globals_for(input_cls)
    # pulumi.Input[T] is Union[T, Awaitable[T], "Output[T]"]: the string needs these two names.
    localns = {"Output": pulumi.Output, "T": type(None)}
    fields: dict[str, _Shape | None] = {}
    for base in reversed(input_cls.__mro__):
        for attr in vars(base).values():
            if not isinstance(attr, builtins.property) or attr.fget is None:
                continue
            engine_name = getattr(attr.fget, _PULUMI_NAME_ATTR, None)
            if not isinstance(engine_name, str):
                continue
            try:
                hint = typing.get_type_hints(attr.fget, globalns=globalns, localns=localns).get("return")
                fields[engine_name] = _shape(hint) if hint is not None else None
            except Exception:  # noqa: BLE001 - an unresolvable hint only disables recursion
                fields[engine_name] = None
    return fields


@functools.cache
def _args_class(resource_cls: type) -> type | None:
    """The input type a resource class is constructed from.

    pulumi_aws names it ``<Resource>Args``; pulumi_kubernetes names it ``<Kind>InitArgs``,
    because ``<Kind>Args`` (also importable from the resource's module) is the nested input type
    of the same kind, which additionally has ``status``. The annotation of the ``args`` parameter
    of the ``__init__`` overloads is authoritative, the names are fallbacks. None for resource
    classes without generated input types (dynamic providers, hand-written resources).
    """
    if not (isinstance(resource_cls, type) and issubclass(resource_cls, pulumi.Resource)):
        raise TypeError(f"not a Pulumi resource class: {resource_cls!r}")
    module = sys.modules.get(resource_cls.__module__)
    globalns = vars(module) if module else {}
    for overload in typing.get_overloads(resource_cls.__init__):
        param = inspect.signature(overload).parameters.get("args")
        if param is None or param.annotation is inspect.Parameter.empty:
            continue
        annotation = param.annotation
        try:
            if isinstance(annotation, str):
                annotation = eval(annotation, globalns)  # noqa: S307 - SDK's own annotation
        except Exception:  # noqa: BLE001
            continue
        for member in _flatten(annotation):
            if isinstance(member, type) and pulumi_types.is_input_type(member):
                return member
    for suffix in ("InitArgs", "Args"):
        candidate = getattr(module, resource_cls.__name__ + suffix, None)
        if isinstance(candidate, type) and pulumi_types.is_input_type(candidate):
            return candidate
    return None


def _join(path: str, key: str) -> str:
    if _IDENTIFIER_RE.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


def _check_object(input_cls: type, value: dict, path: str, token: str, out: list[str]) -> None:
    fields = _fields(input_cls)
    for key, item in value.items():
        key_path = _join(path, str(key))
        if key not in fields:
            out.append(f"{key_path}: not an input of {token}")
            continue
        shape = fields[key]
        if shape is not None:
            _check_value(shape, item, key_path, token, out)


def _unwrap(value: Any) -> Any:
    """Strip the wire encoding of secrets and output values; other special objects
    (assets, archives, resource references) are returned as None: nothing to check inside."""
    while isinstance(value, dict) and _SIG_KEY in value:
        if value[_SIG_KEY] not in (_SECRET_SIG, _OUTPUT_VALUE_SIG):
            return None
        value = value.get("value")
    return value


def _check_value(shape: _Shape, value: Any, path: str, token: str, out: list[str]) -> None:
    value = _unwrap(value)
    # Anything else (strings such as provider inputs, which the engine JSON-encodes, unknowns
    # during preview, scalars) is not looked into.
    if isinstance(value, dict):
        if isinstance(shape.on_dict, type):
            _check_object(shape.on_dict, value, path, token, out)
        elif isinstance(shape.on_dict, _MapOf):
            for key, item in value.items():
                _check_value(shape.on_dict.values, item, _join(path, str(key)), token, out)
    elif isinstance(value, list) and shape.on_list is not None:
        for index, item in enumerate(value):
            _check_value(shape.on_list, item, f"{path}[{index}]", token, out)


def check_inputs(resource_cls: type, inputs: dict) -> list[str]:
    """Report input keys the provider SDK does not declare for ``resource_cls``.

    Args:
        resource_cls: A Pulumi resource class such as ``pulumi_aws.eks.Cluster``,
            ``pulumi_kubernetes.apps.v1.Deployment`` or ``pulumi_kubernetes.Provider``.
        inputs: The resource's engine-side inputs with camelCase keys, as
            ``pulumi.runtime.Mocks.new_resource`` receives them in ``args.inputs``.

    Returns:
        One message per unknown key, e.g.
        ``"vpcConfig.subnetIdz: not an input of aws:eks/cluster:Cluster"``, in input order;
        ``[]`` if all keys are known. Nested dicts, lists and typed maps are checked where the
        SDK declares an input type for them; untyped parts (``Any``, ``Mapping[str, Any]``,
        JSON strings) are not looked into.

        A resource class without a generated Args input type (a dynamic provider resource,
        say) has nothing to check against and yields ``[]``.

    Raises:
        TypeError: if ``resource_cls`` is not a Pulumi resource class.
    """
    args_cls = _args_class(resource_cls)
    if args_cls is None:
        return []
    token = pulumi.get_type_token(resource_cls) or f"{resource_cls.__module__}.{resource_cls.__qualname__}"
    out: list[str] = []
    _check_object(args_cls, inputs, "", token, out)
    return out
