"""A user type for the serializer tests, importable by module path (pytest puts tests/ on it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Ticket:
    id: int
    note: str
