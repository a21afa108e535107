"""The period a run judges: LatestDate lives in fhiradapter/exportend.py (`map` needs it without
loading the rules); re-exported here for the rules and callers that import it from here."""
from __future__ import annotations

from fhiradapter.exportend import LatestDate

__all__ = ["LatestDate"]
