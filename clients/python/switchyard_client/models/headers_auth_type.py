from enum import StrEnum


class HeadersAuthType(StrEnum):
    HEADERS = "headers"

    def __str__(self) -> str:
        return str(self.value)
