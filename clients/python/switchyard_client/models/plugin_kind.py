from enum import StrEnum


class PluginKind(StrEnum):
    INBOUND_TRANSFORM = "inbound-transform"
    PAYLOAD_BUILDER = "payload-builder"

    def __str__(self) -> str:
        return str(self.value)
