"""Quota and credit fields of the models, read from the server's JSON (``raw``)."""

from __future__ import annotations

from typing import Any, Dict, Optional


class CreditFields:
    """``credits``: ``{remaining, refill, next_refill_at}`` when the key spends credits, else None."""

    raw: Dict[str, Any]

    @property
    def credits(self) -> Optional[Dict[str, Any]]:
        value = self.raw.get("credits")
        return value if isinstance(value, dict) else None


class QuotaFields(CreditFields):
    """``quota``: the tightest request quota ``{period, limit, remaining, reset}`` when one applies."""

    @property
    def quota(self) -> Optional[Dict[str, Any]]:
        value = self.raw.get("quota")
        return value if isinstance(value, dict) else None


class TenantQuotaFields:
    """The request quotas in force per UTC day and month (the tenant's override, else the plan's)."""

    raw: Dict[str, Any]

    @property
    def quota_per_day(self) -> Optional[int]:
        return self.raw.get("quota_per_day")

    @property
    def quota_per_month(self) -> Optional[int]:
        return self.raw.get("quota_per_month")
