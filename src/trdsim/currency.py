"""Money as people read it: a currency's symbol and whole units with thousands separators."""

import math

__all__ = ["MINUS", "SYMBOLS", "money"]

SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}
MINUS = "\u2212"  # the minus sign of typeset text; CSV files keep plain numbers


def money(x: float | None, currency: str) -> str:
    """£12,424 / −£2,460 (whole units, a true minus sign U+2212; an unknown currency
    shows its code); blank when missing. For display only: tables written for machines
    hold the numbers themselves."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    symbol = SYMBOLS.get(currency, currency + " ")
    if round(x) < 0:
        return f"{MINUS}{symbol}{-x:,.0f}"
    return f"{symbol}{abs(x):,.0f}"  # abs: no "£-0" for a small negative amount
