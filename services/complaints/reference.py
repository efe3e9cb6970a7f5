"""Time zone of the complaints service: deadlines are counted in Baku days."""
from zoneinfo import ZoneInfo

BAKU = ZoneInfo("Asia/Baku")
