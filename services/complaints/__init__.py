"""Complaints about either service, with the one-month deadline (C-1 … C-4)."""
