"""How a store's policy file becomes the dictionary the policy model validates, and its problems a message.

A store's file holds only what it changes. It is laid over a base policy — the shipped `default.toml`, or the one
its top-level `extends` names (a shipped policy's name such as `honda_ohabc`, or a TOML file, relative to the
store's file; a base may extend another). Tables merge key by key, at every depth; any other value (a number, a
text, a list) replaces the base's. A complete policy of an earlier release is a file that changes every key: it
keeps working, and a key a later release adds comes from the default.

Problems are told in Chinese and English, by the key's full name; an unknown key with the nearest known one.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import tomllib
import typing
from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

SHIPPED: Traversable = files("policy")
DEFAULT_NAME = "default"


class PolicyError(Exception):
    """A policy file that cannot be used; the message names the file, the key and the problem."""


def shipped_names() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in SHIPPED.iterdir() if p.name.endswith(".toml"))


def read_toml(source: Path | Traversable) -> dict[str, Any]:
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise PolicyError(f"策略文件不存在 / policy file not found: {source}") from err
    except tomllib.TOMLDecodeError as err:
        raise PolicyError(f"策略文件格式错误 / policy file is not valid TOML: {source}: {err}") from err


def _section(model: type[BaseModel] | None, key: str) -> type[BaseModel] | None:
    """The model of `model`'s field `key` when that field is a section (a model, or an optional one), else None."""
    field = model.model_fields.get(key) if model else None
    if field is None:
        return None
    candidates = [field.annotation, *typing.get_args(field.annotation)]
    return next((c for c in candidates if inspect.isclass(c) and issubclass(c, BaseModel)), None)


def merged(over: Mapping[str, Any], base: Mapping[str, Any], model: type[BaseModel] | None = None) -> dict[str, Any]:
    """`base` with `over` laid on it. Without `model`, every table merges key by key and any other value of `over`
    replaces the base's. With `model`, only the model's sections merge; a map (a table of free names, such as
    `grade_interval_days`) is a value like any other and replaces the base's whole, so its missing keys stay missing."""
    out = dict(base)
    for key, value in over.items():
        below, inner = out.get(key), _section(model, key)
        if isinstance(value, dict) and isinstance(below, dict) and (model is None or inner is not None):
            out[key] = merged(value, below, inner)
        else:
            out[key] = value
    return out


def _identity(source: Path | Traversable) -> Path:
    return Path(str(source)).resolve()


def _base_of(source: Path | Traversable, name: object) -> Path | Traversable:
    if not isinstance(name, str) or not name.strip():
        raise PolicyError(f"策略文件有误 / invalid policy {source}: extends: 应为策略名或文件路径 / "
                          f"must name a shipped policy ({', '.join(shipped_names())}) or a TOML file")
    if name in shipped_names():
        return SHIPPED / f"{name}.toml"
    folder = _identity(source).parent
    path = (folder / name).expanduser()
    if not path.is_file():
        raise PolicyError(f"策略文件有误 / invalid policy {source}: extends: 找不到基础策略 / base policy not found: "
                          f"{name!r} (shipped: {', '.join(shipped_names())}; or a TOML file relative to {folder})")
    return path


def chain(source: Path | Traversable) -> list[tuple[Path | Traversable, dict[str, Any], bool]]:
    """Each file `source` stands on, itself first, down to the shipped default: (the file, its keys without
    `extends`, whether it named its base)."""
    default = _identity(SHIPPED / f"{DEFAULT_NAME}.toml")
    found: list[tuple[Path | Traversable, dict[str, Any], bool]] = []
    seen: list[Path] = []
    current = source
    while True:
        if _identity(current) in seen:
            circle = " → ".join(str(p) for p in [*seen, _identity(current)])
            raise PolicyError(f"策略文件有误 / invalid policy {source}: extends: 循环引用 / extends in a circle: "
                              f"{circle}")
        seen.append(_identity(current))
        data = read_toml(current)
        name = data.pop("extends", None)
        found.append((current, data, name is not None))
        if name is None and _identity(current) == default:
            return found
        current = _base_of(current, DEFAULT_NAME if name is None else name)


def own_files(source: Path) -> list[Path]:
    """The store's own files among those `source` stands on (itself, and any base that is not shipped)."""
    shipped = _identity(SHIPPED)
    return [Path(str(f)) for f, _, _ in chain(source) if _identity(f).parent != shipped]


def layered(source: Path | Traversable, model: type[BaseModel]) -> dict[str, Any]:
    """The policy `source` stands for, as data for `model`. A file with `extends` holds changes: laid over its base,
    every table merged key by key. A file without one is complete by itself (every policy before `extends` was): laid
    over the shipped default section by section, so that only a key it does not have at all (one a later release
    added) comes from the default, and its maps keep exactly the keys it lists."""
    result: dict[str, Any] = {}
    for _, data, changes_only in reversed(chain(source)):
        result = merged(data, result, None if changes_only else model)
    return result


# what each pydantic error type means, in Chinese (the English is pydantic's own message)
_ZH = {
    "missing": "缺少此项",
    "extra_forbidden": "未知的键",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "float_type": "应为数字", "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "string_type": "应为文字（加引号）",
    "list_type": "应为列表 [ … ]",
    "dict_type": "应为表 { … }", "model_type": "应为表 { … }", "model_attributes_type": "应为表 { … }",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}", "less_than_equal": "应不大于 {le}",
    "too_short": "项数太少", "too_long": "项数太多",
    "literal_error": "只能是 {expected}",
    "time_type": "应为时间，如 \"09:00\"", "time_parsing": "应为时间，如 \"09:00\"",
    "value_error": "取值不符合规则", "assertion_error": "取值不符合规则",
}


def _model_at(model: type[BaseModel], path: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class whose fields `path` (a pydantic error's location, without its last part) leads to."""
    found: type[BaseModel] | None = model
    for part in path:
        if not isinstance(part, int):
            found = _section(found, part)
    return found


def _describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc) or "(top)"
    zh = _ZH.get(error["type"], "取值无效")
    with contextlib.suppress(KeyError, IndexError):
        zh = zh.format(**error.get("ctx", {}))
    en = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        known = sorted(owner.model_fields) if owner else []
        near = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        en = "unknown key"
        if near:
            zh, en = f"{zh}（是否想写 {near[0]}？）", f"{en} (did you mean {near[0]}?)"
        elif known:
            en = f"{en} (known here: {', '.join(known)})"
    return f"{where}: {zh} / {en}"


HINT = ('（只写改动的策略文件，第一行写 extends = "default"）'
        ' (a policy file that holds only its changes starts with extends = "default")')


def explain(source: Path | Traversable, errors: list[ErrorDetails], model: type[BaseModel]) -> str:
    """One message for all of a policy's problems, each by its key, in Chinese and English; for a file that names
    no base, how to make it a file of changes."""
    problems = "; ".join(_describe(e, model) for e in errors)
    hint = "" if "extends" in read_toml(source) else f" {HINT}"
    return f"策略文件有误 / invalid policy {source}: {problems}{hint}"
