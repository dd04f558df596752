from enum import StrEnum


class ActorKind(StrEnum):
    ADMIN_API_KEY = "admin_api_key"
    WEBHOOK_IMPORT = "webhook_import"

    def __str__(self) -> str:
        return str(self.value)
