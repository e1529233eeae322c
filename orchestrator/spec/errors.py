"""Spec errors for users: one line, `file: field = value: what is allowed`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator.spec.schema import TASK_FORMS


class SpecError(ValueError):
    """A spec that cannot run; str() is the one line shown to the user."""


BRANCHES = ("str", *TASK_FORMS)
"""pydantic's labels of the task union's forms: not part of the user's path."""


def _branch(part: Any) -> bool:
    return part in BRANCHES or "[" in str(part)


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not _branch(part):
            path += f".{part}" if path else str(part)
    return path


def _keys_at(root: type[BaseModel], loc: tuple) -> list[str]:
    """The keys a spec allows at a (model-valued) location, for 'unknown key' errors."""
    model: Any = root
    for part in loc:
        if isinstance(part, str) and part in getattr(model, "model_fields", {}):
            annotation = model.model_fields[part].annotation
            nested = [a for a in getattr(annotation, "__args__", (annotation,)) if
                      isinstance(a, type) and issubclass(a, BaseModel)]  # fmt: skip
            model = nested[0] if nested else annotation
        elif part in TASK_FORMS:
            model = TASK_FORMS[part]
    return list(getattr(model, "model_fields", {}))


def _lookup(data: Any, loc: tuple) -> Any:
    for part in loc:
        if _branch(part):
            continue
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            break
    return data


def one_line(path: str, data: Any, error: ValidationError, root: type[BaseModel]) -> str:
    """The first validation error as `file: field = value: what is wrong`."""
    # the deepest error: for a union (a task name or a file task) it is the branch the user meant
    first = max(error.errors(), key=lambda e: len(e["loc"]))
    loc = tuple(first["loc"])
    key = (first.get("ctx") or {}).get("key")  # a key named by a model's own check
    field = _field_path((*loc, key) if key else loc)
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return (
            f"{path}: unknown key {_shown(field)}; allowed: {', '.join(_keys_at(root, loc[:-1]))}"
        )
    if first["type"] == "missing":
        return f"{path}: {field} {msg}" if key else f"{path}: {field} is required"
    if first["type"] == "key_not_allowed":
        return f"{path}: {field}: {msg}"
    if first["type"] == "literal_error":
        msg = msg.replace("Input should be", "allowed:")
    return f"{path}: {field} = {_shown(_lookup(data, loc))}: {msg}"


def _shown(value: Any, width: int = 60) -> str:
    """A value as the user wrote it, cut to `width` characters (a long list, a deep nest)."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
