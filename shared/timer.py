"""A nameko timer whose interval comes from config, so tests and operators can
change how often a scheduled job runs without touching code."""
from nameko.timer import Timer


class ConfigTimer(Timer):
    def __init__(self, config_key, default, **kwargs):
        self.config_key = config_key
        super().__init__(interval=default, **kwargs)

    def setup(self):
        self.interval = float(self.container.config.get(self.config_key, self.interval))
        super().setup()


every = ConfigTimer.decorator
