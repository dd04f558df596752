from enum import StrEnum


class UploadPluginLanguage(StrEnum):
    JAVASCRIPT = "javascript"
    JS = "js"
    TS = "ts"
    TYPESCRIPT = "typescript"

    def __str__(self) -> str:
        return str(self.value)
