"""The only door for the kiosks at the centres (D-5, Q-7, Q-8)."""
