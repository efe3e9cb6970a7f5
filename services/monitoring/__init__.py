"""The monitoring consumer and automated-control reports (M-1 … M-4)."""
