from enum import StrEnum


class EventName(StrEnum):
    LEAD_CREATED = "lead.created"
    LEAD_DELETED = "lead.deleted"
    LEAD_SAVED = "lead.saved"
    LEAD_STAGE_CHANGED = "lead.stage_changed"
    LEAD_UPDATED = "lead.updated"

    def __str__(self) -> str:
        return str(self.value)
