"""Parameter form built from a strategy's ``Params`` dataclass fields.

int → spin box, float → spin box that keeps any precision, bool → check box, str → line edit.
Field types are read from the strategy class (``load_strategy_class`` only imports the file);
when the class cannot be loaded, the types of the current values stand in.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import typing
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from replayterm.core.strategy import StrategyLoadError, load_strategy_class

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
FLOAT_LIMIT = 1e15
_FLOAT_PARTIAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d*)?([eE][+-]?\d*)?")
_KINDS: dict[str, type] = {"int": int, "float": float, "bool": bool, "str": str}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: type | None  # int, float, bool, str; None = a type the form cannot edit
    default: Any


def param_fields(params_type: type) -> list[FieldSpec]:
    """The editable description of a ``Params`` dataclass (declared types, defaults)."""
    if not dataclasses.is_dataclass(params_type):
        return []
    try:
        hints = typing.get_type_hints(params_type)
    except Exception:
        hints = {}
    out = []
    for f in dataclasses.fields(params_type):
        kind = hints.get(f.name, f.type)
        if isinstance(kind, str):
            kind = _KINDS.get(kind.strip())
        if kind not in (int, float, bool, str):
            kind = None
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        out.append(FieldSpec(f.name, kind, default))
    return out


def fields_from_values(values: dict[str, Any]) -> list[FieldSpec]:
    out = []
    for name, value in values.items():
        kind = next((k for k in (bool, int, float, str) if type(value) is k), None)
        out.append(FieldSpec(name, kind, value))
    return out


class FieldTypes:
    """``spec`` → fields, cached per file modification time (a hot reload may change them)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], list[FieldSpec]] = {}

    def fields(self, spec: str | None, values: dict[str, Any]) -> list[FieldSpec]:
        if spec:
            key = (spec, _mtime(spec))
            found = self._cache.get(key)
            if found is None:
                try:
                    found = param_fields(load_strategy_class(spec).Params)
                except (StrategyLoadError, Exception):
                    found = []
                self._cache[key] = found
            if found and {f.name for f in found} == set(values):
                return found
        return fields_from_values(values)


def _mtime(spec: str) -> int:
    path = spec.rpartition(".py:")[0] + ".py" if ".py:" in spec else spec
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


class FloatSpinBox(QDoubleSpinBox):
    """A spin box for any float: shows ``0.0025`` or ``1e-07`` as typed, not rounded to N places."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(15)
        self.setRange(-FLOAT_LIMIT, FLOAT_LIMIT)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.10g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        stripped = text.strip()
        try:
            float(stripped)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            state = (
                QValidator.State.Intermediate
                if _FLOAT_PARTIAL.fullmatch(stripped)
                else QValidator.State.Invalid
            )
            return state, text, pos


class ParamsForm(QWidget):
    """Editors for one strategy's parameters. ``dirty_changed(bool)``: the edits differ from the
    values last set (the strategy's current parameters)."""

    dirty_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(6, 4, 6, 4)
        self.layout_.setHorizontalSpacing(10)
        self.layout_.setVerticalSpacing(4)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._fields: list[FieldSpec] = []
        self._editors: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self._baseline: dict[str, Any] = {}
        self._dirty = False
        self._building = False
        self._empty = QLabel("This strategy has no parameters.", self)
        self._empty.setObjectName("dimLabel")
        self.layout_.addRow(self._empty)

    # ---- building ----------------------------------------------------------------------------
    def set_fields(self, fields: list[FieldSpec], values: dict[str, Any]) -> None:
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self._editors.clear()
        self._labels.clear()
        self._fields = list(fields)
        self._building = True
        self._empty = QLabel("This strategy has no parameters.", self)
        self._empty.setObjectName("dimLabel")
        if not fields:
            self.layout_.addRow(self._empty)
        for spec in fields:
            editor = self._make_editor(spec, values.get(spec.name, spec.default))
            label = QLabel(spec.name, self)
            kind = spec.kind.__name__ if spec.kind is not None else "not editable here"
            tip = f"{spec.name}: {kind}, default {spec.default!r}"
            label.setToolTip(tip)
            editor.setToolTip(tip)
            self._editors[spec.name] = editor
            self._labels[spec.name] = label
            self.layout_.addRow(label, editor)
        self._building = False
        self._baseline = self.values()
        self._set_dirty(False)

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values`` as the new baseline (after the strategy took new parameters)."""
        for spec in self._fields:
            if spec.name in values:
                self._write(spec, self._editors[spec.name], values[spec.name])
        self._baseline = self.values()
        self._refresh_dirty()

    def _make_editor(self, spec: FieldSpec, value: Any) -> QWidget:
        kind = spec.kind
        editor: QWidget
        if kind is bool:
            editor = QCheckBox(self)
            editor.toggled.connect(self._refresh_dirty)
        elif kind is int and isinstance(value, int) and INT_MIN <= value <= INT_MAX:
            editor = QSpinBox(self)
            editor.setRange(INT_MIN, INT_MAX)
            editor.setKeyboardTracking(False)
            editor.valueChanged.connect(self._refresh_dirty)
        elif (
            kind is float
            and isinstance(value, int | float)
            and math.isfinite(value)
            and abs(value) <= FLOAT_LIMIT
        ):
            editor = FloatSpinBox(self)
            editor.valueChanged.connect(self._refresh_dirty)
        else:
            editor = QLineEdit(self)
            if kind is int:
                editor.setValidator(QRegularExpressionValidator(r"[+-]?\d+", editor))
            elif kind is None:
                editor.setReadOnly(True)
            editor.textChanged.connect(self._refresh_dirty)
        self._write(spec, editor, value)
        return editor

    @staticmethod
    def _write(spec: FieldSpec, editor: QWidget, value: Any) -> None:
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, QLineEdit):
            editor.setText(repr(value) if spec.kind is None else "" if value is None else str(value))

    # ---- reading -----------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """Current editor values, typed (fields the form cannot edit are left out)."""
        out: dict[str, Any] = {}
        for spec in self._fields:
            editor = self._editors[spec.name]
            if spec.kind is None:
                continue
            if isinstance(editor, QCheckBox):
                out[spec.name] = editor.isChecked()
            elif isinstance(editor, QSpinBox | QDoubleSpinBox):
                out[spec.name] = editor.value()
            elif isinstance(editor, QLineEdit):
                out[spec.name] = editor.text()  # str fields; ints beyond 32 bits are converted by the core
        return out

    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    @property
    def fields(self) -> list[FieldSpec]:
        return list(self._fields)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def _refresh_dirty(self, *_: object) -> None:
        if self._building:
            return
        current = self.values()
        for name, label in self._labels.items():
            font = QFont(label.font())
            font.setBold(name in current and current[name] != self._baseline.get(name))
            label.setFont(font)
        self._set_dirty(current != self._baseline)

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)
