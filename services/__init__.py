"""The services of the platform, one package each."""
