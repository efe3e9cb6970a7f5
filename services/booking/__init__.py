"""Online queue booking at ASAN service centres (Q-1 … Q-10)."""
