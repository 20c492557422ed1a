"""A database source URL: where the server is (libpq's own URI) plus what to read from it.

``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB?table=T&symbol=S&from=TIME&to=TIME`` with optional
``exchange=E``, ``order=COLUMN`` (the arrival order; default ``seq`` when the table has it, else
the receive time) and ``col.TARDIS_NAME=COLUMN`` for tables whose columns are named otherwise
(defaults: Tardis's names, ``local_timestamp``, ``timestamp``, ``side``...). Every other query
parameter (``host=/run/postgresql``, ``sslmode``...) goes to libpq untouched. The password comes
from the URL or libpq's usual places (``PGPASSWORD``, ``~/.pgpass``) and is never part of the
cache key or of any message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from replayterm.core.data.timefmt import parse_time

SCHEMES = ("postgresql", "postgres")
_OWN = ("table", "symbol", "exchange", "from", "to", "order")
_COLUMN_PREFIX = "col."


def is_database_url(text: object) -> bool:
    """A text (not a path object) that names a PostgreSQL source."""
    return isinstance(text, str) and text.strip().lower().startswith(tuple(f"{s}://" for s in SCHEMES))


def is_query_path(path: object) -> bool:
    """The path a database source carries as ``Source.path`` (its cache key; ``//`` folded)."""
    return str(path).lower().startswith(tuple(f"{s}:" for s in SCHEMES))


@dataclass(frozen=True)
class DatabaseQuery:
    conninfo: str  # libpq URI: server, database, credentials, libpq options
    table: str
    symbol: str | None = None
    exchange: str | None = None
    from_ts: int | None = None
    to_ts: int | None = None
    order: str | None = None
    columns: tuple[tuple[str, str], ...] = ()  # (Tardis name, column in the table) overrides
    key: str = ""

    @classmethod
    def parse(cls, url: str) -> DatabaseQuery:
        """Raises ``ValueError`` saying what is wrong with the URL and how it should look."""
        text = url.strip()
        if not is_database_url(text):
            raise ValueError(f"not a PostgreSQL URL: {text!r}; expected postgresql://HOST/DB?table=NAME")
        parts = urlsplit(text)
        own: dict[str, str] = {}
        columns: dict[str, str] = {}
        libpq: list[tuple[str, str]] = []
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name in _OWN:
                own[name] = value
            elif name.startswith(_COLUMN_PREFIX) and value:
                columns[name[len(_COLUMN_PREFIX) :]] = value
            else:
                libpq.append((name, value))
        table = own.get("table", "").strip()
        if not table:
            raise ValueError(
                f"{redact(text)}: the URL names no table; add ?table=NAME (and &symbol=SYMBOL to read "
                "one symbol, &from=/&to= for a time range)"
            )
        lo = parse_time(own["from"]) if own.get("from") else None
        hi = parse_time(own["to"]) if own.get("to") else None
        if lo is not None and hi is not None and hi <= lo:
            raise ValueError(f"{redact(text)}: 'to' must be later than 'from'")
        conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(libpq), ""))
        query = cls(
            conninfo=conninfo,
            table=table,
            symbol=own.get("symbol") or None,
            exchange=own.get("exchange") or None,
            from_ts=lo,
            to_ts=hi,
            order=own.get("order") or None,
            columns=tuple(sorted(columns.items())),
        )
        return cls(**{**query.__dict__, "key": query._key(parts.scheme, parts, libpq)})

    def _key(self, scheme: str, parts: object, libpq: list[tuple[str, str]]) -> str:
        split = urlsplit(self.conninfo)
        user = quote(split.username or "", safe="")
        host = split.hostname or ""
        port = split.port or ""
        options = [(k, v) for k, v in libpq if k != "password"]
        own: list[tuple[str, str]] = [("table", self.table)]
        for name, value in (
            ("exchange", self.exchange),
            ("symbol", self.symbol),
            ("from", self.from_ts),
            ("to", self.to_ts),
            ("order", self.order),
        ):
            if value is not None:
                own.append((name, str(value)))
        own += [(f"{_COLUMN_PREFIX}{k}", v) for k, v in self.columns]
        query = urlencode(sorted(options) + own)
        return f"postgresql://{user}@{host}:{port}{split.path}?{query}"

    @property
    def path(self) -> Path:
        """What the opened sources carry as their path: the key (no password)."""
        return Path(self.key)

    def column(self, tardis_name: str) -> str:
        return dict(self.columns).get(tardis_name, tardis_name)

    @property
    def label(self) -> str:
        what = self.table + (f" {self.symbol}" if self.symbol else "")
        return f"{what} ({redact(self.conninfo)})"


def redact(url: str) -> str:
    """A URL with its password (in the authority or a ``password=`` parameter) replaced by ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user_part, _, host_part = netloc.rpartition("@")
        user = user_part.split(":", 1)[0]
        netloc = f"{user}:***@{host_part}"
    query = urlencode(
        [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
