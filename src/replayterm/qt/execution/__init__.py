"""The app's execution settings: a dialog, a status-bar summary, persistence and Copy as command."""
