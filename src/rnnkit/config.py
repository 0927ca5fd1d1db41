"""Configuration files: one pydantic machinery for every rnnkit configuration.

Every configuration that a user writes (a task's TOML file, the trainer's settings, a model
spec) is built from :class:`Section`: a frozen pydantic model that forbids unknown keys. A
validation failure is one :class:`~rnnkit.errors.ConfigError` line naming the dotted key, what
was expected and what was received, and an unknown key gets the closest known one as a
suggestion::

    training.epoks: expected one of the keys [...], got an unknown key (did you mean 'epochs'?)

:class:`ConfigFile` is the root of a whole file (a task's configuration): ``from_dict``,
``from_toml`` / ``from_toml_string``, ``with_overrides`` (what ``--set key=value`` does),
``to_dict`` and ``to_toml``, which reads back to an equal config.

Example::

    >>> class Fit(Section):
    ...     epochs: int = 3
    >>> class MyConfig(ConfigFile):
    ...     fit: Fit = Fit()
    >>> MyConfig.from_toml_string("[fit]\nepochs = 5").fit.epochs
    5
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from typing import Any, Literal, Self, get_args, get_origin

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError

__all__ = ["ConfigFile", "Section", "merge_dicts", "non_defaults", "one_line_error", "parse_toml",
           "read_toml_file", "read_utf8",
           "toml_value"]


class Section(BaseModel):
    """A frozen config section that rejects unknown keys; errors are one ConfigError line.

    Types are strict, so that nothing is read by a silent coercion: a boolean is ``true`` or
    ``false`` (not ``"no"`` or ``1``), an integer is not a boolean nor a float (``epochs = true``
    and ``epochs = 2.5`` are refused), a string is not a number. Two conversions stay, as they
    lose nothing: an integer where a float is expected (``lr = 1``) and a list where a tuple is
    expected (TOML and JSON have no tuples); NumPy scalars are read as their Python values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              arbitrary_types_allowed=True, strict=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise ConfigError(one_line_error(err, type(self))) from None

    @model_validator(mode="before")
    @classmethod
    def _lossless_conversions(cls, data: Any) -> Any:
        """A list for a tuple field becomes a tuple (strict mode takes only tuples), and a
        NumPy scalar its Python value (``np.int64(3)`` from a tuner's grid is the integer 3,
        ``np.True_`` is ``True``); nothing else is converted."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, value in data.items():
            field = cls.model_fields.get(name)
            if isinstance(value, np.generic) and isinstance(value, (np.integer, np.floating,
                                                                    np.bool_)):
                out[name] = value.item()
            elif field is not None and isinstance(value, list) \
                    and _accepts_tuple(field.annotation):
                out[name] = tuple(value)
        return out

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed, validated again."""
        return type(self)(**{**self._fields_dict(), **changes})

    def _fields_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in type(self).model_fields}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({non_defaults(self)})"


class ConfigFile(Section):
    """The root of a configuration file: TOML in and out, overrides merged key by key."""

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Validate a nested dict (e.g. parsed TOML or JSON)."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise ConfigError(expected("config", "a dict of sections",
                                       Described(type(data).__name__)))
        return cls(**data)

    @classmethod
    def from_toml_string(cls, text: str, *, source: str = "<string>") -> Self:
        return cls.from_dict(parse_toml(text, source))

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Self:
        """Read a TOML file; relative data paths are resolved against the file's folder
        (see :meth:`resolve_paths`)."""
        p = Path(path)
        return cls.from_dict(read_toml_file(p)).resolve_paths(p.parent)

    def resolve_paths(self, folder: Path) -> Self:
        """Hook: make relative file paths absolute against ``folder`` (no paths by default)."""
        return self

    def with_overrides(self, overrides: dict[str, Any] | None) -> Self:
        """A new config with ``overrides`` (a nested dict, sections merged key by key)."""
        if not overrides:
            return self
        return type(self).from_dict(merge_dicts(self.to_dict(), overrides))

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (lists, not tuples), ``None`` values included."""
        return self.model_dump(mode="json")

    def to_toml(self) -> str:
        """TOML text that :meth:`from_toml_string` reads back to an equal config.

        TOML has no null, so ``None`` values are left out; every key that may be ``None``
        defaults to ``None``, so leaving it out restores it.
        """
        data = self.to_dict()
        lines: list[str] = []
        top = [(k, v) for k, v in data.items() if not isinstance(v, dict) and v is not None]
        for key, value in top:
            lines.append(f"{key} = {toml_value(value)}")
        if top:
            lines.append("")
        for section, values in data.items():
            if not isinstance(values, dict):
                continue
            lines.append(f"[{section}]")
            nested = []
            for key, value in values.items():
                if value is None:
                    continue
                if isinstance(value, dict):
                    nested.append((key, value))
                    continue
                lines.append(f"{key} = {toml_value(value)}")
            for key, value in nested:
                if value:
                    items = ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()
                                      if v is not None)
                    lines.append(f"{key} = {{ {items} }}")
            lines.append("")
        return "\n".join(lines)


# -----------------------------------------------------------------------------------------
def parse_toml(text: str, source: str, path: Path | None = None) -> dict[str, Any]:
    """TOML text as a dict; invalid TOML is one ConfigError line naming ``source`` (the
    argument or option that gave it) and the file."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        where = f"valid TOML in {path}" if path is not None else "valid TOML"
        name = f"{path.name}: " if path is not None else ""
        raise ConfigError(expected(source, where,
                                   Described(f"{name}not valid TOML: {err}"))) from None


def read_toml_file(path: Path, option: str = "config path") -> dict[str, Any]:
    """A TOML file as a dict: a missing file, one that is not UTF-8 or invalid TOML is one
    ConfigError line naming ``option`` (the argument or command-line option that gave it)."""
    if not path.is_file():
        raise ConfigError(expected(option, "an existing TOML file", str(path)))
    return parse_toml(read_utf8(path, option), option, path)


def read_utf8(path: Path, name: str) -> str:
    """The text of ``path``; a file that is not UTF-8 (TOML's encoding) is a ConfigError naming
    the file and the first byte that does not decode."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(expected(
            name, "a UTF-8 text file (TOML files are UTF-8)",
            Described(f"{str(path)!r}, not UTF-8: byte {data[err.start]:#04x} at offset "
                      f"{err.start} ({err.reason})"),
            "save the file as UTF-8")) from None


def merge_dicts(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not key.endswith("_args"):
            out[key] = merge_dicts(out[key], value)
        else:
            out[key] = value
    return out


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise ConfigError(expected("config value", "a TOML scalar or list", value))


def non_defaults(model: BaseModel, prefix: str = "", base: BaseModel | None = None) -> str:
    """``key=value`` for every field of ``model`` that differs from ``base`` (default: the
    fields' own defaults); nested sections are compared with their default in the parent, so a
    task's own training defaults are not shown as changes."""
    parts = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if base is not None:
            default = getattr(base, name)
        elif field.default_factory is not None:
            default = field.default_factory()  # type: ignore[call-arg]
        else:
            default = field.default
        if isinstance(value, BaseModel):
            inner = non_defaults(value, f"{prefix}{name}.",
                                 default if isinstance(default, type(value)) else None)
            if inner:
                parts.append(inner)
        elif value != default:
            parts.append(f"{prefix}{name}={value!r}")
    return ", ".join(parts)


def _model_at(root: type[BaseModel], loc: tuple[str, ...]) -> type[BaseModel] | None:
    """The section class found by following ``loc`` from ``root`` (None if not a section)."""
    current: Any = root
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _accepts_tuple(annotation: Any) -> bool:
    """Whether ``annotation`` is a tuple type (also inside ``tuple[...] | None``) and no list."""
    kinds = [annotation, *get_args(annotation)] if get_origin(annotation) is not tuple \
        else [annotation]
    origins = {get_origin(a) or a for a in kinds}
    return tuple in origins and list not in origins


def _literal_choices(annotation: Any) -> list[Any]:
    """The values of the ``Literal`` inside ``annotation`` (also inside ``Literal[...] | None``)."""
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    return [v for arg in get_args(annotation) for v in _literal_choices(arg)]


_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
           "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}


def one_line_error(err: ValidationError, root: type[BaseModel]) -> str:
    """The first error of ``err`` as rnnkit's one-line message, naming the dotted key.

    Sections validate themselves (their ``__init__`` converts), so an error from a nested
    section arrives here already converted, as a ``value_error`` whose key gets the prefix.
    """
    first = err.errors()[0]
    loc = tuple(str(p) for p in first["loc"])
    # a key is shown as written, or as repr() when it holds a newline or a control character,
    # so the message stays one line and prints nothing to the terminal but text
    key = ".".join(p if p.isprintable() else repr(p) for p in loc) or root.__name__
    kind = first["type"]
    received = first.get("input")
    ctx = first.get("ctx", {})
    section = _model_at(root, loc[:-1])
    if kind == "extra_forbidden":
        allowed = sorted(section.model_fields) if section is not None else []
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        return expected(key, f"one of the keys {allowed}", Described("an unknown key"),
                        f"did you mean {close[0]!r}?" if close else None)
    if kind == "missing":
        return expected(key, "a value (this key is required)", Described("nothing"))
    if kind == "literal_error" and section is not None and loc[-1] in section.model_fields:
        choices = _literal_choices(section.model_fields[loc[-1]].annotation)
        return expected(key, f"one of {choices}", received)
    if kind in _BOUNDS:
        op, name = _BOUNDS[kind]
        return expected(key, f"a number {op} {ctx.get(name)}", received)
    if kind == "value_error":  # from a validator: already "field: expected ..."
        error = ctx.get("error")
        inner = str(error) if error is not None else str(first["msg"])
        inner = inner.removeprefix("Value error, ")
        return f"{key}.{inner}" if loc else inner
    what = str(first["msg"]).removeprefix("Input should be ")
    if isinstance(received, dict):
        received = Described("a table")
    return expected(key, what, received)
