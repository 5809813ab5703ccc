"""The base of every settings table: strict keys, range-checked numbers.

It lives below both :mod:`flowloop.config` and :mod:`flowloop.passes` because a training pass
declares its own ``[train.<name>]`` table and the config schema gathers those tables from the
pass registry; neither may import the other's side of that.
"""

from __future__ import annotations

from typing import Any

import annotated_types
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class Section(BaseModel):
    """A table of the config file: unknown keys are errors, so typos never pass silently.

    Numbers are range-checked: a field may declare its bounds (``ge=1``); an integer that
    declares none must still be at least 0 (or its own negative sentinel default, like
    ``max_steps = -1``), and no float may be NaN or infinite. So ``FLOW_INDEX__RRF_K=-1`` is an
    error naming the setting, never a ZeroDivisionError deep inside retrieval.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _default_lower_bound(cls, value: Any, info: ValidationInfo) -> Any:
        if type(value) is not int or info.field_name is None:
            return value
        spec = cls.model_fields[info.field_name]
        if any(isinstance(m, (annotated_types.Ge, annotated_types.Gt)) for m in spec.metadata):
            return value  # its own bound was checked already
        floor = min(0, spec.default) if isinstance(spec.default, int) else 0
        if value < floor:
            raise ValueError(f"must be at least {floor}, not {value}")
        return value
