"""A nameko timer whose interval comes from config, so tests and operators can
change how often a scheduled job runs without touching code."""
from nameko.timer import Timer


class ConfigTimer(Timer):
    """``@every("HOLD_SWEEP_SECONDS", 30)``: nameko's timer, run every ``config[config_key]``
    seconds, ``default`` seconds when the key is not set."""

    def __init__(self, config_key, default, **kwargs):
        self.config_key = config_key
        super().__init__(interval=default, **kwargs)

    def setup(self):
        """Reads the interval (seconds) from the config, then starts as nameko's timer."""
        self.interval = float(self.container.config.get(self.config_key, self.interval))
        super().setup()


every = ConfigTimer.decorator
