"""The fast paths of tlsdoc.handshake give exactly what the general code gives.

Each fast path in handshake.py (the faster dataclass constructors, ...) is
compared here with the general code it stands in for.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from tlsdoc import handshake
from tlsdoc.registry import ExtensionType
from tlsdoc.wire import Direction, Span

SPAN = Span(Direction.CLIENT_TO_SERVER, 5, 9, (3,))

VALUE_CLASSES = sorted(
    (c for c in vars(handshake).values()
     if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == handshake.__name__),
    key=lambda c: c.__name__,
)


def test_every_value_class_has_the_fast_init():
    assert len(VALUE_CLASSES) > 40
    assert set(handshake._DATACLASS_INIT) == set(VALUE_CLASSES)


def _arguments(cls) -> dict:
    # a distinct value per field (the fast __init__ must not mix them up)
    return {f.name: (f"value of {f.name}", i) for i, f in enumerate(dataclasses.fields(cls))}


@pytest.mark.parametrize("cls", VALUE_CLASSES, ids=lambda c: c.__name__)
def test_fast_init_builds_what_the_dataclass_init_builds(cls):
    original = handshake._DATACLASS_INIT[cls]
    assert inspect.signature(cls.__init__) == inspect.signature(original)
    assert cls.__init__.__annotations__ == original.__annotations__
    assert cls.__init__.__qualname__ == original.__qualname__
    kwargs = _arguments(cls)
    fast = cls(**kwargs)
    slow = object.__new__(cls)
    original(slow, **kwargs)
    assert fast == slow and repr(fast) == repr(slow)
    assert [getattr(fast, f.name) for f in dataclasses.fields(cls)] == list(kwargs.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, dataclasses.fields(cls)[0].name, None)


@pytest.mark.parametrize("cls", VALUE_CLASSES, ids=lambda c: c.__name__)
def test_fast_init_refuses_what_the_dataclass_init_refuses(cls):
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
    if required:
        kwargs = _arguments(cls)
        del kwargs[required[0]]
        with pytest.raises(TypeError):
            cls(**kwargs)
        with pytest.raises(TypeError):
            cls(*_arguments(cls).values())  # keyword-only
    with pytest.raises(TypeError):
        cls(**_arguments(cls), no_such_field=1)


def test_fast_init_defaults():
    entry = handshake.HandshakeEntry(name="Finished", msg_type=None, direction=Direction.CLIENT_TO_SERVER,
                                     records=(1,), span=SPAN)
    assert (entry.message, entry.encrypted, entry.raw, entry.error) == (None, False, None, None)
    view = handshake.TlsHandshake(client_messages=(), server_messages=())
    assert view.warnings == () and view.version is None
    assert dataclasses.replace(view, sni="a").sni == "a"
    ext = handshake.EmptyExtension(type=ExtensionType.extended_master_secret, span=SPAN)
    assert ext == handshake.EmptyExtension(type=ExtensionType.extended_master_secret, span=SPAN)
