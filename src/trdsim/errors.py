"""Errors a user can act on (shown without a traceback, exit code 2)."""

__all__ = ["MISSING", "ScenarioError", "TrdsimError"]


class TrdsimError(Exception):
    """Base class of errors the command line reports as one message."""


SHOWN = 80  # characters of a value a message shows


class ScenarioError(TrdsimError):
    """A scenario that cannot be run: names the file, the key, the value and what is allowed."""

    def __init__(self, file: str, key: str, value: object, allowed: str):
        self.file, self.key, self.value, self.allowed = file, key, value, allowed
        shown = "(missing)" if value is MISSING else repr(value)
        if len(shown) > SHOWN:  # a whole table as the value: its start says which
            shown = shown[: SHOWN - 3] + "..."
        super().__init__(f"{file}: {key} = {shown}: {allowed}")


class _Missing:
    """Marks a key that the scenario does not have."""

    def __repr__(self) -> str:
        return "(missing)"


MISSING = _Missing()
