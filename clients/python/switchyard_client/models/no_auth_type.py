from enum import StrEnum


class NoAuthType(StrEnum):
    NONE = "none"

    def __str__(self) -> str:
        return str(self.value)
