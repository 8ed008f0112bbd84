"""A stand-in service that carries the report mixin before the lead mixes it into
VisitsService: named ``visitsreports`` (so it never meets the real ``visits`` queues)
but with ``Kit("visits")`` — the visits database."""
from __future__ import annotations

from crmkit.nameko.base import BaseService
from crmkit.nameko.kit import Kit
from visits.report_entrypoints import ReportEntrypoints


class ReportsTestService(ReportEntrypoints, BaseService):
    name = "visitsreports"
    kit = Kit("visits")
