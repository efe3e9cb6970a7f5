"""Time zone of the registry: days are counted in Baku."""
from zoneinfo import ZoneInfo

BAKU = ZoneInfo("Asia/Baku")
