"""Each route of the application prepared once per test run, not once per application.

FastAPI prepares a route of an included router (its dependencies, the validators of its
parameters and of its answer) the first time a request is matched against it, and does
so for every application anew: a test that makes its own application, as most API and
page tests do, paid a few tenths of a second for the routes its requests passed, most
of what such a test costs. Preparing a route depends only on the route and on how its
router was included (prefix, dependencies, defaults), which are the same for every
application ``create_app`` makes; so the tests keep what was prepared and hand it to
each new application (:func:`install`).

What a request then runs is what FastAPI prepared: the same dependencies, validators,
handler and answer. Only FastAPI's ``dependency_overrides`` are looked up on the first
application to have prepared the route; Steward does not use them, and an application
that has some gets its own routes prepared as usual. A FastAPI whose private
preparation step this does not recognise is left as it is (the tests are then only
slower).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from typing import Any

_prepared: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()
_installed = False


def _value_key(value: Any) -> Any:
    """A hashable stand-in for one field of how a router was included."""
    if callable(value) and hasattr(value, "__code__"):
        # A function made anew per application (``generate_unique_id_function``, a
        # lambda in ``create_app``): the same code and captured values make the same ids.
        cells = tuple(id(cell.cell_contents) for cell in (value.__closure__ or ()))
        return ("function", value.__code__, cells, value.__defaults__)
    if type(value).__name__ == "DefaultPlaceholder":  # made anew per include
        return ("default", _value_key(value.value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ("dataclass", type(value), tuple(
            (f.name, _value_key(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, dict):
        return ("dict", tuple((k, _value_key(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_value_key(v) for v in value))
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return ("object", id(value))


def _key(original_route: Any, include_context: Any) -> tuple[Any, ...] | None:
    if not dataclasses.is_dataclass(include_context):
        return None
    fields = []
    for field in dataclasses.fields(include_context):
        if field.name == "dependency_overrides_provider":
            continue
        fields.append((field.name, _value_key(getattr(include_context, field.name))))
    return (id(original_route), tuple(fields))


def install() -> None:
    """Patches FastAPI's preparation of included routes to reuse what was prepared."""
    global _installed
    if _installed:
        return
    try:
        from fastapi.routing import _EffectiveRouteContext
    except ImportError:  # another FastAPI: routes are prepared per application
        return
    build = getattr(_EffectiveRouteContext, "from_api_route", None)
    if build is None:
        return
    prepare = build.__func__

    def from_api_route(cls: Any, *, original_route: Any, include_context: Any) -> Any:
        provider = getattr(include_context, "dependency_overrides_provider", None)
        key = _key(original_route, include_context)
        if key is None or getattr(provider, "dependency_overrides", None):
            return prepare(cls, original_route=original_route, include_context=include_context)
        with _lock:
            found = _prepared.get(key)
            if found is None:
                found = prepare(cls, original_route=original_route,
                                include_context=include_context)
                # The route is kept with what was prepared, so its id is never reused.
                _prepared[key] = (found, original_route, include_context)
            else:
                found = found[0]
        return copy.copy(found)

    _EffectiveRouteContext.from_api_route = classmethod(from_api_route)  # type: ignore[method-assign]
    _installed = True
