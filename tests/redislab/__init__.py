"""A real ``redis-server`` on a free loopback port, for the shared-cache tests.

`start_redis_lab(workdir)` starts it with its own configuration and data
folder; `fixtures.py` offers it to pytest as the session fixture `redis_lab`.
The lab can be stopped and started again on the same port, to show what the
workers do when Redis goes away mid-batch and comes back.
"""

from tests.redislab.lab import LabUnavailable, RedisLab, start_redis_lab

__all__ = ["LabUnavailable", "RedisLab", "start_redis_lab"]
