"""Numbers as people read them: money with its currency's symbol, whole units and
thousands separators; shares, plain numbers and standard errors the same way. Every
printer (the command line, the result objects' summaries) formats through these, so a
minus sign, a separator or a symbol never differs between two screens."""

import math

__all__ = ["MINUS", "SYMBOLS", "money", "number", "plus_minus", "share"]

SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}
MINUS = "\u2212"  # the minus sign of typeset text; CSV files keep plain numbers


def _nan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _sign(negative: bool, signed: bool) -> str:
    return MINUS if negative else ("+" if signed else "")


def money(x: float | None, currency: str, sign: bool = False) -> str:
    """£12,424 / −£2,460 (whole units, a true minus sign U+2212; an unknown currency
    shows its code); +£12,424 with `sign`; blank when missing. For display only: tables
    written for machines hold the numbers themselves."""
    if x is None or _nan(x):
        return ""
    symbol = SYMBOLS.get(currency, currency + " ")
    negative = round(x) < 0  # no "−£0" for a small negative amount
    return f"{_sign(negative, sign and round(x) != 0)}{symbol}{abs(x):,.0f}"


def number(x: float | None, digits: int = 0, sign: bool = False) -> str:
    """12,424.5 / −0.133 / +0.133 with `sign`: thousands separators, a true minus sign;
    blank when missing."""
    if x is None or _nan(x):
        return ""
    shown = f"{abs(x):,.{digits}f}"
    zero = float(shown.replace(",", "")) == 0  # "−0.000" would claim a sign it has not
    return f"{_sign(x < 0 and not zero, sign and not zero)}{shown}"


def share(x: float | None, digits: int = 1, sign: bool = False) -> str:
    """71.9 % / −2.5 % / +2.5 % with `sign` (a proportion shown as a percentage); blank
    when missing."""
    if x is None or _nan(x):
        return ""
    return f"{number(100 * x, digits, sign)} %"


def plus_minus(se: float | None, currency: str | None = None, digits: int = 0) -> str:
    """The "± SE" of an estimate: ± £49 for money (with `currency`), ± 0.003 otherwise;
    "± n/a" when there is no SE."""
    if se is None or _nan(se):
        return "± n/a"
    return f"± {money(se, currency) if currency else number(se, digits)}"
