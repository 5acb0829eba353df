"""Money as people read it: a currency's symbol and whole units with thousands separators."""

import math

__all__ = ["SYMBOLS", "money"]

SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}


def money(x: float | None, currency: str) -> str:
    """£12,424 / -£2,460 (whole units; an unknown currency shows its code); blank when missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    symbol = SYMBOLS.get(currency, currency + " ")
    return f"-{symbol}{-x:,.0f}" if x < 0 else f"{symbol}{x:,.0f}"
