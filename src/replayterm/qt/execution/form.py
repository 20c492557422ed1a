"""``ExecutionForm``: widgets for every execution setting, read and written as command-line options.

The form never builds settings itself: it writes the options ``replayterm backtest`` takes and
parses them with the same code (``commands.execution_args``), so the app, the command line and
"Copy as command" cannot disagree.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from replayterm.commands.execution_args import format_interval, settings_with
from replayterm.core.execution import ConstantLatency
from replayterm.core.execution.fee_table import READ_ON, exchange_fees
from replayterm.core.execution.rules import OFF_TICK_RULES, THROUGH_RULES
from replayterm.core.session.settings import LATENCY_MODELS, QUEUE_MODELS, SessionSettings


def _spin(lo: float, hi: float, decimals: int, suffix: str, step: float = 1.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setSuffix(suffix)
    box.setKeyboardTracking(False)
    return box


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(round(float(x), 9))


def exchange_fee_text(instruments: list[str]) -> str:
    """ "binance-futures: maker 2 / taker 5 bps (USDⓈ-M futures, regular user)" per instrument."""
    lines = []
    for name in instruments:
        exchange = name.partition(":")[0]
        row = exchange_fees(exchange)
        if row is None:
            lines.append(f"{name}: no default for {exchange!r} — 0 bps (set fees below)")
        else:
            fees = f"maker {_num(row.maker_bps)} / taker {_num(row.taker_bps)} bps"
            lines.append(f"{name}: {fees} ({row.market}, read {READ_ON})")
    return "\n".join(lines) if lines else "Open data to see its exchange's default fees"


class ExecutionForm(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.latency_model = QComboBox()
        self.latency_model.addItems(list(LATENCY_MODELS))
        self.latency_model.setToolTip(
            "constant: the latency below; feed: the latency below plus the data's feed delay above its "
            "running minimum at each moment (a recorder clock offset cancels)"
        )
        self.entry_ms = _spin(0, 10_000, 3, " ms")
        self.entry_ms.setToolTip("An order meets the book this long after it is sent (replay axis)")
        self.response_ms = _spin(0, 10_000, 3, " ms")
        self.response_ms.setToolTip("Answers reach the strategy this long after the exchange acts")
        self.feed_scale = _spin(0, 100, 2, " ×", 0.5)
        self.feed_window_s = _spin(0.001, 86_400, 3, " s", 10)
        self.feed_max_ms = _spin(0, 60_000, 1, " ms", 100)

        self.fee_default = QCheckBox("Exchange default (base tier)")
        self.fee_default_label = QLabel(exchange_fee_text([]))
        self.fee_default_label.setObjectName("dimLabel")
        self.fee_default_label.setWordWrap(True)
        self.maker_bps = _spin(-100, 1000, 4, " bps", 0.5)
        self.taker_bps = _spin(-100, 1000, 4, " bps", 0.5)
        self.slippage_bps = _spin(0, 1000, 4, " bps", 0.5)
        self.slippage_bps.setToolTip("Extra price slippage on taker fills (never beyond a limit price)")

        self.off_tick = QComboBox()
        self.off_tick.addItems(list(OFF_TICK_RULES))
        self.off_tick.setToolTip(
            "A limit price off the tick grid: reject it, or round it to the passive side"
        )
        self.through = QComboBox()
        self.through.addItems(list(THROUGH_RULES))
        self.through.setToolTip(
            "The book moving through a resting order: fill only the size shown at crossing prices "
            "(conservative) or the whole order (full)"
        )
        self.own_liquidity = QCheckBox("Own fills consume the levels they took")
        self.queue = QComboBox()
        self.queue.addItems(list(QUEUE_MODELS))
        self.cash = _spin(-1e12, 1e12, 2, "", 1000)
        self.metrics_interval = QLineEdit()
        self.metrics_interval.setToolTip("Sharpe/Sortino return interval: 1m, 30s, 250ms, 1h…")

        latency = QGroupBox("Latency")
        lf = QFormLayout(latency)
        lf.addRow("Model", self.latency_model)
        lf.addRow("Entry", self.entry_ms)
        lf.addRow("Response", self.response_ms)
        lf.addRow("Feed scale", self.feed_scale)
        lf.addRow("Feed window", self.feed_window_s)
        lf.addRow("Feed cap", self.feed_max_ms)
        fees = QGroupBox("Fees")
        ff = QFormLayout(fees)
        ff.addRow(self.fee_default)
        ff.addRow(self.fee_default_label)
        ff.addRow("Maker", self.maker_bps)
        ff.addRow("Taker", self.taker_bps)
        ff.addRow("Slippage", self.slippage_bps)
        rules = QGroupBox("Fill rules")
        rf = QFormLayout(rules)
        rf.addRow("Off-tick price", self.off_tick)
        rf.addRow("Book through order", self.through)
        rf.addRow(self.own_liquidity)
        rf.addRow("Queue model", self.queue)
        account = QGroupBox("Account and metrics")
        af = QFormLayout(account)
        af.addRow("Initial cash", self.cash)
        af.addRow("Metrics interval", self.metrics_interval)

        left = QVBoxLayout()
        left.addWidget(latency)
        left.addWidget(account)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(fees)
        right.addWidget(rules)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

        for box in (self.latency_model, self.off_tick, self.through, self.queue):
            box.currentIndexChanged.connect(self._on_change)
        for spin in (
            self.entry_ms, self.response_ms, self.feed_scale, self.feed_window_s, self.feed_max_ms,
            self.maker_bps, self.taker_bps, self.slippage_bps, self.cash,
        ):  # fmt: skip
            spin.valueChanged.connect(self._on_change)
        for check in (self.fee_default, self.own_liquidity):
            check.toggled.connect(self._on_change)
        self.metrics_interval.textEdited.connect(self._on_change)
        self._default_bps = (0.0, 0.0)  # the first instrument's exchange default, for display
        self.set_settings(SessionSettings())

    def _on_change(self, *_: object) -> None:
        self._enable()
        self.changed.emit()

    def set_instruments(self, names: list[str]) -> None:
        self.fee_default_label.setText(exchange_fee_text(names))
        rows = [exchange_fees(name.partition(":")[0]) for name in names]
        self._default_bps = next(((r.maker_bps, r.taker_bps) for r in rows if r is not None), (0.0, 0.0))
        if self.fee_default.isChecked():
            self._show_default_fees()

    def _show_default_fees(self) -> None:
        for box, value in zip((self.maker_bps, self.taker_bps), self._default_bps, strict=True):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)

    def set_settings(self, s: SessionSettings) -> None:
        widgets = (self, *self.findChildren(QWidget))
        for w in widgets:
            w.blockSignals(True)
        try:
            base = s.base_latency()
            self.latency_model.setCurrentText(s.latency_model)
            self.entry_ms.setValue(base.entry_us / 1000)
            self.response_ms.setValue(base.response_us / 1000)
            self.feed_scale.setValue(s.feed_scale)
            self.feed_window_s.setValue(s.feed_window_us / 1e6)
            self.feed_max_ms.setValue(s.feed_max_us / 1000)
            self.fee_default.setChecked(s.fees is None)
            if s.fees is None:
                self._show_default_fees()
            else:
                self.maker_bps.setValue(s.fees.maker * 1e4)
                self.taker_bps.setValue(s.fees.taker * 1e4)
            self.slippage_bps.setValue(s.slippage_bps or 0.0)
            self.off_tick.setCurrentText(s.rules.off_tick)
            self.through.setCurrentText(s.rules.through)
            self.own_liquidity.setChecked(s.rules.own_liquidity)
            self.queue.setCurrentText(s.queue if isinstance(s.queue, str) else "risk-averse")
            self.cash.setValue(s.initial_cash)
            self.metrics_interval.setText(format_interval(s.metrics_interval_us))
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._enable()

    def _enable(self) -> None:
        feed = self.latency_model.currentText() == "feed"
        for w in (self.feed_scale, self.feed_window_s, self.feed_max_ms):
            w.setEnabled(feed)
        own_fees = not self.fee_default.isChecked()
        self.maker_bps.setEnabled(own_fees)
        self.taker_bps.setEnabled(own_fees)

    def options(self) -> list[str]:
        """The form as ``replayterm backtest`` options."""
        out = ["--latency-model", self.latency_model.currentText()]
        entry, response = round(self.entry_ms.value() * 1000), round(self.response_ms.value() * 1000)
        default = SessionSettings().base_latency()
        if ConstantLatency(entry, response) != default:
            out += ["--latency-us", f"{entry},{response}"]
        if self.latency_model.currentText() == "feed":
            out += ["--feed-scale", _num(self.feed_scale.value())]
            out += ["--feed-window-s", _num(self.feed_window_s.value())]
            out += ["--feed-max-ms", _num(self.feed_max_ms.value())]
        if self.fee_default.isChecked():
            out += ["--fees-bps", "default"]
        else:
            out += [f"--fees-bps={_num(self.maker_bps.value())},{_num(self.taker_bps.value())}"]
        if self.slippage_bps.value() > 0:
            out += ["--slippage-bps", _num(self.slippage_bps.value())]
        out += ["--off-tick", self.off_tick.currentText(), "--through-fills", self.through.currentText()]
        out += ["--own-liquidity", "on" if self.own_liquidity.isChecked() else "off"]
        out += ["--queue", self.queue.currentText(), "--cash", _num(self.cash.value())]
        out += ["--metrics-interval", self.metrics_interval.text().strip() or "1m"]
        return out

    def settings(self, base: SessionSettings | None = None) -> SessionSettings:
        """The settings the form shows (ValueError with the option's message when one is wrong).
        Fields the form does not show (sampling, instrument focus) come from ``base``."""
        start = base if base is not None else SessionSettings()
        reset = SessionSettings(
            sample_interval_us=start.sample_interval_us,
            focus=start.focus,
            callback_budget_s=start.callback_budget_s,
        )
        return settings_with(reset, self.options())
