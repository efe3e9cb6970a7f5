"""A nameko timer whose interval comes from config, so tests and operators can
change how often a scheduled job runs without touching code."""
from nameko.timer import Timer


class ConfigTimer(Timer):
    """``@every("DEADLINE_CHECK_SECONDS")``: nameko's timer, run every
    ``config[config_key]`` seconds — a key of the service's settings, whose one default
    is in its ``config.yaml`` (``shared.runtime.settings``); ``KeyError`` at start-up when the
    config lacks it. ``default``: seconds when the key is not set, for a service whose
    settings are not one object yet."""

    def __init__(self, config_key, default=None, **kwargs):
        self.config_key = config_key
        super().__init__(interval=default, **kwargs)

    def setup(self):
        """Reads the interval (seconds) from the config, then starts as nameko's timer."""
        config = self.container.config
        if self.interval is None or self.config_key in config:
            self.interval = float(config[self.config_key])
        super().setup()


every = ConfigTimer.decorator
