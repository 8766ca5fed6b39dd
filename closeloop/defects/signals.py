"""Hooks the early-warning check to intake."""
