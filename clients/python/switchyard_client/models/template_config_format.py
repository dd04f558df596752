from enum import StrEnum


class TemplateConfigFormat(StrEnum):
    FORM = "form"
    JSON = "json"

    def __str__(self) -> str:
        return str(self.value)
