"""Layout of the simulator's state: two small arrays the compiled kernel reads and updates.

Keeping all state in arrays (instead of a jitclass) lets the simulation stop when the output
buffers are full and resume on the next call with nothing lost.
"""

from __future__ import annotations

BOOK_WIDTH = 1 << 15  # ticks held in the book array; the window recentres when the book drifts

# Integer state.
S_BASE = 0  # absolute tick of index 0
S_BB = 1  # best bid index
S_BA = 2  # best ask index
S_FB = 3  # farthest (lowest) bid index
S_FA = 4  # farthest (highest) ask index
S_NB = 5  # bid level count
S_NA = 6  # ask level count
S_LAST_LOCAL = 7  # last receive time handed out (µs)
S_TRADE_ID = 8  # last trade id used
S_TK_BID = 9  # last book_ticker row written: bid ticks, bid lots, ask ticks, ask lots
S_TK_BQ = 10
S_TK_ASK = 11
S_TK_AQ = 12
S_IN_GAP = 13  # 1 while the recorder is disconnected
S_STARTED = 14  # 1 once the opening snapshot is written
S_SNAPSHOTS = 15  # snapshot groups written
S_MESSAGES = 16  # book messages written (snapshots included)
S_REF = 17  # natural best bid for the fair mid, absolute ticks (the fair mid is half a tick above)
N_ISTATE = 18

# Float state.
F_T = 0  # true time of the current message (µs since epoch)
F_LOGVOL = 1  # log of the volatility factor
F_SPIKE = 2  # extra latency of a delivery stall, decaying (µs)
F_NEXT_RECON = 3  # true time of the next recorder reconnect
F_GAP_END = 4  # end of the current reconnect gap
N_FSTATE = 5
