"""The order inspector: click an order (a fills row, an orders row) and see its whole life."""

from replayterm.qt.orders.inspector import OrderInspector
from replayterm.qt.orders.ui import OrdersUI

__all__ = ["OrderInspector", "OrdersUI"]
