"""What every feature's pages share: their templates beside them, the language, form fields."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Query
from fastapi.templating import Jinja2Templates
from pydantic import BeforeValidator

Lang = Annotated[str, Query(pattern="^(zh|en)$")]  # zh-CN first, English with ?lang=en


def templates_of(module: str) -> Jinja2Templates:
    """The templates of the feature `module` (its `__file__`) belongs to: its `templates/`."""
    return Jinja2Templates(directory=Path(module).resolve().parent / "templates")


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


# A form sends "" for "any": an empty choice is no filter, not an invalid one.
Blank = BeforeValidator(_blank_is_none)
