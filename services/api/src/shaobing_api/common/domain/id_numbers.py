"""An ID number as the viewer may see it: in full for the roles whose work needs it, else masked."""

from __future__ import annotations

from shaobing_contracts.id_number import mask_id_number
from shaobing_runtime.access import Principal


def id_number_as_seen(id_number: str, viewer: Principal) -> str:
    """The number itself for a full-ID role, 310110********0134 for everyone else."""
    return id_number if viewer.sees_full_ids else mask_id_number(id_number)
