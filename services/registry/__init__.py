"""The Personal identification number table and the FIN lookup (F-1 … F-6)."""
