from enum import StrEnum


class UploadPluginKind(StrEnum):
    INBOUND_TRANSFORM = "inbound-transform"
    PAYLOAD_BUILDER = "payload-builder"

    def __str__(self) -> str:
        return str(self.value)
