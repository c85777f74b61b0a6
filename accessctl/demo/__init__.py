"""Synthetic demo region."""
