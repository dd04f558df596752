from enum import StrEnum


class BatchMode(StrEnum):
    ANY_EVENT = "any_event"
    NONE = "none"
    SAME_EVENT = "same_event"
    SAME_EVENT_TYPE = "same_event_type"

    def __str__(self) -> str:
        return str(self.value)
