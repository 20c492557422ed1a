"""Simulated exchange: orders, latency, queue position, fees and fills."""
