"""The day's figures: the same code the server runs (fieldapp.core.figures), on this phone's records."""

from __future__ import annotations

from fieldapp.ui.lead import LeadDay
from fieldapp.ui.models.queue import QueueModel


class FiguresModel:
    def __init__(self, queue: QueueModel, lead: LeadDay):
        self.queue, self.lead = queue, lead

    @property
    def day(self) -> str:
        """The queue's day: the figures are of the day the lead is looking at."""
        return self.queue.day

    def figures(self) -> dict:
        return self.lead.figures(self.day)
