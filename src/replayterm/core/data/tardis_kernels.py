"""Compiled row parsers for the exact Tardis CSV layouts, over one block of decoded bytes.

A block starts at the beginning of a data line and ends with ``\\n``, so every scan below stops
at that byte at the latest and needs no bounds check. Each kernel parses the rows of its layout
into the cache's columns and returns how many rows it wrote, or the block-relative index of the
first row that does not fit (as ``~row``); the caller then gives the whole block to the general
reader, which yields the very same values or names the exact problem.

What fits is deliberately narrow, so that every value is bit-equal to the general reader's:

* integers: an optional ``-`` and 1..18 digits (leading zeros allowed and counted);
* decimals: an optional ``-``, at least one integer digit, optionally ``.`` and at least one
  fraction digit, 18 digits in all at most; no exponent, no ``+``, no spaces. With ``m`` all
  digits as an integer and ``k`` fraction digits the value is ``m / 10**k``, which IEEE division
  rounds correctly (as the general reader's parser does) as long as both operands are exact
  doubles: ``m <= 2**53`` and ``k <= 22`` (``10**22`` is the largest exact power of ten). Anything
  else goes to the general reader;
* text (exchange, symbol, trade id): printable ASCII without ``"`` or ``,``; exchange and symbol
  non-empty and without spaces (the general reader would keep a space, the normalizer rejects a
  blank value: both cases are rare enough to leave to it);
* sides and ``is_snapshot`` spelled exactly as Tardis writes them (``bid``/``ask``,
  ``buy``/``sell``/``unknown``, ``true``/``false``);
* line ends ``\\n`` or ``\\r\\n``; an empty line, a lone ``\\r``, a quote, a missing or extra field
  all hand the block over.

The checks the normalizer makes (positive prices, non-negative amounts, both or neither of a
snapshot level) are made here too: a row that would fail them is a row that does not fit.
"""

from __future__ import annotations

import numba as nb
import numpy as np

NL, CR, COMMA, QUOTE, MINUS, DOT = 10, 13, 44, 34, 45, 46
MAX_EXACT = 1 << 53
MAX_DIGITS = 18
MAX_FRACTION = 22
MAX_DISTINCT = 64  # distinct exchange (or symbol) values per block; more hands the block over
POW10 = np.array([10.0**i for i in range(MAX_FRACTION + 1)], np.float64)

# Side codes of the normalized schemas (model.py): book +1 bid / -1 ask, trades +1 buy / -1 sell.
BID, ASK, BUY, SELL, UNKNOWN = 1, -1, 1, -1, 0

# Checks on an optional decimal column of the "wide" layouts.
ANY, POSITIVE, NON_NEGATIVE, OPTIONAL_INT = 0, 1, 2, 3

BAD = -1  # a returned position: the field does not fit


@nb.njit(inline="always")
def _terminator(buf: np.ndarray, p: int, last: bool) -> int:
    """Position after the field end at ``p`` (``,`` or, for the last field, the line end)."""
    c = buf[p]
    if last:
        if c == NL:
            return p + 1
        if c == CR and buf[p + 1] == NL:
            return p + 2
        return BAD
    if c == COMMA:
        return p + 1
    return BAD


@nb.njit(inline="always")
def _decimal(buf: np.ndarray, p: int, last: bool, pow10: np.ndarray) -> tuple[float, int, bool]:
    """(value, next position or BAD, empty)."""
    c = buf[p]
    negative = c == MINUS
    if negative:
        p += 1
        c = buf[p]
    m = 0
    begin = p
    while 48 <= c <= 57:
        m = m * 10 + (c - 48)
        p += 1
        c = buf[p]
    whole = p - begin
    fraction = 0
    if c == DOT:
        p += 1
        c = buf[p]
        begin = p
        while 48 <= c <= 57:
            m = m * 10 + (c - 48)
            p += 1
            c = buf[p]
        fraction = p - begin
        if fraction == 0:
            return 0.0, BAD, False
    if whole == 0:
        if negative or fraction:
            return 0.0, BAD, False
        return np.nan, _terminator(buf, p, last), True  # an empty field
    # At most 18 digits (leading zeros included) cannot overflow int64; then m must be exact.
    if whole + fraction > MAX_DIGITS or m > MAX_EXACT or fraction > MAX_FRACTION:
        return 0.0, BAD, False
    value = float(m) / pow10[fraction] if fraction else float(m)
    return (-value if negative else value), _terminator(buf, p, last), False


@nb.njit(inline="always")
def _integer(buf: np.ndarray, p: int, last: bool) -> tuple[int, int, bool]:
    """(value, next position or BAD, empty)."""
    c = buf[p]
    negative = c == MINUS
    if negative:
        p += 1
        c = buf[p]
    value = 0
    begin = p
    while 48 <= c <= 57:
        value = value * 10 + (c - 48)
        p += 1
        c = buf[p]
    count = p - begin
    if count == 0:
        if negative:
            return 0, BAD, False
        return 0, _terminator(buf, p, last), True
    if count > MAX_DIGITS:
        return 0, BAD, False
    return (-value if negative else value), _terminator(buf, p, last), False


@nb.njit(inline="always")
def _code(buf: np.ndarray, p: int, table: np.ndarray, state: np.ndarray, slot: int) -> tuple[int, int]:
    """(block-local code of the text field at ``p``, next position or BAD). ``table[i]`` holds
    (start, length) of distinct value ``i``; ``state[slot]`` their count, ``state[slot + 1]`` the
    last code used (nearly every row repeats it, so that one is compared first)."""
    candidates = state[slot]
    if candidates:
        last = state[slot + 1]
        s = table[last, 0]
        length = table[last, 1]
        if p + length < buf.size and buf[p + length] == COMMA:
            same = True
            for j in range(length):
                if buf[s + j] != buf[p + j]:
                    same = False
                    break
            if same:
                return last, p + length + 1
    start = p
    c = buf[p]
    while c > 32 and c < 127 and c != COMMA and c != QUOTE:
        p += 1
        c = buf[p]
    if c != COMMA:
        return -1, BAD
    length = p - start
    if length == 0:
        return -1, BAD
    for i in range(candidates):
        if table[i, 1] != length:
            continue
        same = True
        s = table[i, 0]
        for j in range(length):
            if buf[s + j] != buf[start + j]:
                same = False
                break
        if same:
            state[slot + 1] = i
            return i, p + 1
    if candidates >= table.shape[0]:
        return -1, BAD
    table[candidates, 0] = start
    table[candidates, 1] = length
    state[slot] = candidates + 1
    state[slot + 1] = candidates
    return candidates, p + 1


@nb.njit(inline="always")
def _word(buf: np.ndarray, p: int, word: tuple[int, ...]) -> int:
    """Position after ``word`` followed by a comma at ``p``, or BAD."""
    for j in range(len(word)):
        if buf[p + j] != word[j]:
            return BAD
    if buf[p + len(word)] != COMMA:
        return BAD
    return p + len(word) + 1


@nb.njit(inline="always")
def _prefix(
    buf: np.ndarray,
    p: int,
    r: int,
    tables: np.ndarray,
    state: np.ndarray,
    exchange: np.ndarray,
    symbol: np.ndarray,
    exch_ts: np.ndarray,
    local_ts: np.ndarray,
) -> int:
    """exchange,symbol,timestamp,local_timestamp, -> the position of the next field, or BAD."""
    code, p = _code(buf, p, tables[0], state, 0)
    if p == BAD:
        return BAD
    exchange[r] = code
    code, p = _code(buf, p, tables[1], state, 2)
    if p == BAD:
        return BAD
    symbol[r] = code
    value, p, empty = _integer(buf, p, False)
    if p == BAD or empty:
        return BAD
    exch_ts[r] = value
    value, p, empty = _integer(buf, p, False)
    if p == BAD or empty:
        return BAD
    local_ts[r] = value
    return p


_BID = (98, 105, 100)
_ASK = (97, 115, 107)
_BUY = (98, 117, 121)
_SELL = (115, 101, 108, 108)
_UNKNOWN = (117, 110, 107, 110, 111, 119, 110)
_TRUE = (116, 114, 117, 101)
_FALSE = (102, 97, 108, 115, 101)


@nb.njit(nogil=True, cache=True)
def parse_book_or_trades(
    buf: np.ndarray,
    trades: bool,
    pow10: np.ndarray,
    tables: np.ndarray,
    state: np.ndarray,
    exchange: np.ndarray,
    symbol: np.ndarray,
    exch_ts: np.ndarray,
    local_ts: np.ndarray,
    side: np.ndarray,
    price: np.ndarray,
    amount: np.ndarray,
    is_snapshot: np.ndarray,
    id_offsets: np.ndarray,
    id_bytes: np.ndarray,
) -> int:
    """incremental_book_L2 (``...,is_snapshot,side,price,amount``) or trades / liquidations
    (``...,id,side,price,amount``). Rows written, or ``~row`` of the first that does not fit."""
    n = buf.size
    p = 0
    r = 0
    used = 0
    while p < n:
        p = _prefix(buf, p, r, tables, state, exchange, symbol, exch_ts, local_ts)
        if p == BAD:
            return ~r
        if trades:
            start = p
            c = buf[p]
            while c >= 32 and c < 127 and c != COMMA and c != QUOTE:
                p += 1
                c = buf[p]
            if c != COMMA:
                return ~r
            for j in range(start, p):
                id_bytes[used] = buf[j]
                used += 1
            id_offsets[r + 1] = used
            p += 1
            q = _word(buf, p, _BUY)
            if q != BAD:
                side[r] = BUY
            else:
                q = _word(buf, p, _SELL)
                if q != BAD:
                    side[r] = SELL
                else:
                    q = _word(buf, p, _UNKNOWN)
                    if q == BAD:
                        return ~r
                    side[r] = UNKNOWN
            p = q
        else:
            q = _word(buf, p, _TRUE)
            if q != BAD:
                is_snapshot[r] = True
            else:
                q = _word(buf, p, _FALSE)
                if q == BAD:
                    return ~r
                is_snapshot[r] = False
            p = q
            q = _word(buf, p, _BID)
            if q != BAD:
                side[r] = BID
            else:
                q = _word(buf, p, _ASK)
                if q == BAD:
                    return ~r
                side[r] = ASK
            p = q
        value, p, empty = _decimal(buf, p, False, pow10)
        if p == BAD or empty or not value > 0.0:
            return ~r
        price[r] = value
        value, p, empty = _decimal(buf, p, True, pow10)
        if p == BAD or empty or value < 0.0:
            return ~r
        amount[r] = value
        r += 1
    return r


@nb.njit(nogil=True, cache=True)
def parse_wide(
    buf: np.ndarray,
    checks: np.ndarray,
    pow10: np.ndarray,
    tables: np.ndarray,
    state: np.ndarray,
    exchange: np.ndarray,
    symbol: np.ndarray,
    exch_ts: np.ndarray,
    local_ts: np.ndarray,
    values: np.ndarray,
    integers: np.ndarray,
    valid: np.ndarray,
) -> int:
    """quotes / book_ticker / derivative_ticker: the common prefix, then one optional field per
    entry of ``checks`` (``ANY``/``POSITIVE``/``NON_NEGATIVE`` decimals into ``values[j]``,
    ``OPTIONAL_INT`` into ``integers[j]``); an empty field leaves ``valid[j, row]`` 0 and NaN."""
    n = buf.size
    width = checks.size
    p = 0
    r = 0
    while p < n:
        p = _prefix(buf, p, r, tables, state, exchange, symbol, exch_ts, local_ts)
        if p == BAD:
            return ~r
        for j in range(width):
            last = j == width - 1
            check = checks[j]
            if check == OPTIONAL_INT:
                number, p, empty = _integer(buf, p, last)
                if p == BAD:
                    return ~r
                integers[j, r] = number
            else:
                value, p, empty = _decimal(buf, p, last, pow10)
                if p == BAD:
                    return ~r
                if not empty:
                    if check == POSITIVE and not value > 0.0:
                        return ~r
                    if check == NON_NEGATIVE and value < 0.0:
                        return ~r
                values[j, r] = value
            valid[j, r] = not empty
        r += 1
    return r


@nb.njit(nogil=True, cache=True)
def parse_snapshot(
    buf: np.ndarray,
    levels: int,
    pow10: np.ndarray,
    tables: np.ndarray,
    state: np.ndarray,
    exchange: np.ndarray,
    symbol: np.ndarray,
    exch_ts: np.ndarray,
    local_ts: np.ndarray,
    counts: np.ndarray,
    side: np.ndarray,
    price: np.ndarray,
    amount: np.ndarray,
    out_rows: np.ndarray,
) -> int:
    """book_snapshot_N (``levels`` = 2N price,amount pairs: asks[0], bids[0], asks[1], ...): one
    book row per filled level, written to ``side/price/amount`` (``out_rows[0]`` of them);
    ``exchange..local_ts`` and ``counts`` are per file row. Returns file rows or ``~row``."""
    n = buf.size
    p = 0
    r = 0
    k = 0
    while p < n:
        p = _prefix(buf, p, r, tables, state, exchange, symbol, exch_ts, local_ts)
        if p == BAD:
            return ~r
        filled = 0
        for j in range(levels):
            level_price, p, no_price = _decimal(buf, p, False, pow10)
            if p == BAD:
                return ~r
            level_amount, p, no_amount = _decimal(buf, p, j == levels - 1, pow10)
            if p == BAD or no_price != no_amount:
                return ~r
            if no_price:
                continue
            if not level_price > 0.0 or level_amount < 0.0:
                return ~r
            side[k] = ASK if j % 2 == 0 else BID
            price[k] = level_price
            amount[k] = level_amount
            k += 1
            filled += 1
        counts[r] = filled
        r += 1
    out_rows[0] = k
    return r
