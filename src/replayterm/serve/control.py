"""The WebSocket control actions, one function each, looked up in ``ACTIONS``.

A control arrives as a JSON object ``{"action": NAME, …}``. ``ClientLoop`` applies it before it
writes anything more: the messages produced but not yet handed to the socket are the loop's
``pending`` lines, and each action says what becomes of them (kept and paused, dropped on a
seek, filtered on unsubscribe, merged with the new types' messages on subscribe). A bad
control raises ``OptionsError``; the client gets ``{"type": "error", …}`` and the stream goes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from replayterm.core.data import parse_time
from replayterm.serve import encode as enc
from replayterm.serve.options import OptionsError, Selection, parse_data_types, resolve

if TYPE_CHECKING:
    from replayterm.serve.client import ClientLoop

Action = Callable[["ClientLoop", dict[str, Any]], Awaitable[None]]


async def pause(loop: ClientLoop, action: dict[str, Any]) -> None:
    loop.pacer.pause()


async def resume(loop: ClientLoop, action: dict[str, Any]) -> None:
    loop.pacer.resume(loop.next_ts())


async def speed(loop: ClientLoop, action: dict[str, Any]) -> None:
    if loop.follows_app:
        raise OptionsError("the app's transport sets the speed of this replay")
    value = action.get("value")
    if value is None or value == "max":
        loop.pacer.set_speed(None, loop.next_ts())
    elif isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        loop.pacer.set_speed(float(value), loop.next_ts())
    else:
        raise OptionsError('"speed" needs "value": a number > 0 (real-time multiple) or "max"')


async def seek(loop: ClientLoop, action: dict[str, Any]) -> None:
    if loop.follows_app:
        raise OptionsError("the app's transport seeks this replay")
    if "to" not in action:
        raise OptionsError('"seek" needs "to": an ISO-8601 UTC time or µs')
    try:
        ts = parse_time(action["to"])
    except (ValueError, TypeError) as exc:
        raise OptionsError(f'"seek": {exc}') from None
    await loop.seek(ts)
    loop.pacer.anchor(loop.stream.position_ts)


async def subscribe(loop: ClientLoop, action: dict[str, Any]) -> None:
    selection = _selection(loop, action)
    since = loop.next_ts()  # the new types begin where the client is, not where encoding is
    added: enc.Lines = await loop.state.run(partial(loop.stream.subscribe, selection, since))
    loop.merge_pending(added)


async def unsubscribe(loop: ClientLoop, action: dict[str, Any]) -> None:
    markets = None
    if action.get("symbols"):
        markets = _selection(loop, {**action, "dataTypes": ["trade"]}).markets
    names = action.get("dataTypes")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise OptionsError('"dataTypes" must be a list of names')
    loop.stream.unsubscribe(markets, names)
    loop.filter_pending()


ACTIONS: dict[str, Action] = {
    "pause": pause,
    "resume": resume,
    "speed": speed,
    "seek": seek,
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
}


async def apply(loop: ClientLoop, action: dict[str, Any]) -> dict[str, Any] | None:
    """Apply one control; returns the error message to send back, if any."""
    name = action.get("action")
    handler = ACTIONS.get(name) if isinstance(name, str) else None
    try:
        if "__invalid__" in action:
            raise OptionsError(f"control messages are JSON objects, got {action['__invalid__']!r}")
        if handler is None:
            raise OptionsError(f"unknown action {name!r}; use {', '.join(ACTIONS)}")
        await handler(loop, action)
    except OptionsError as exc:
        return {"type": "error", "action": name, "message": str(exc)}
    return None


def _selection(loop: ClientLoop, action: dict[str, Any]) -> Selection:
    stream = loop.stream
    raw = {
        "exchange": action.get("exchange") or stream.request.selections[0].exchange,
        "symbols": action.get("symbols"),
        "dataTypes": action.get("dataTypes"),
        "from": stream.request.from_ts,
        "to": stream.request.to_ts,
        "exactRange": True,
    }
    if raw["dataTypes"] is None:
        raise OptionsError('"subscribe" needs "dataTypes"')
    parse_data_types(raw["dataTypes"])
    return resolve(raw, loop.state.catalog).selections[0]
