"""The live parts a process needs, built once from Settings and passed in explicitly."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import weakref

import redis
import rq
import sqlalchemy as sa
import sqlalchemy.orm as so

from gateway import db
from gateway.center_directory import CenterDirectory
from gateway.flow_library import FlowLibrary
from gateway.phones import PhoneVault
from gateway.redis_connection import connect
from gateway.settings import Settings
from gateway.session_store import SessionStore

log = logging.getLogger(__name__)

QUEUE_NAME = "kuma"
FLOW_SOURCE_KEY = "kuma:flow-source:{version}"
FLOW_SOURCE_TTL = 90 * 24 * 3600  # longer than any SMS session can live
# What a Redis outage raises (refused, timed out, still loading its AOF): the web answers
# them with 503 and Retry-After, so that providers retry instead of seeing a 500.
OUTAGES: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)


class RedisFlowArchive:
    """Keeps every flow version's source in Redis, for sessions pinned to an old version."""

    def __init__(self, redis_client: redis.Redis) -> None:
        self.redis = redis_client

    def put_flow_source(self, version: str, path: str, source: str) -> None:
        """Store a version's source (and refresh how long it is kept)."""
        self.redis.set(FLOW_SOURCE_KEY.format(version=version),
                       json.dumps({"path": path, "source": source}), ex=FLOW_SOURCE_TTL)

    def get_flow_source(self, version: str) -> tuple[str, str] | None:
        """Return (path, source) of a version, or None."""
        raw = self.redis.get(FLOW_SOURCE_KEY.format(version=version))
        if raw is None:
            return None
        found = json.loads(raw)
        return found["path"], found["source"]


@dataclasses.dataclass
class Services:
    """Redis, the queue, the store, the flows, the phone vault and the database of a process."""

    settings: Settings
    redis: redis.Redis
    store: SessionStore
    queue: rq.Queue
    vault: PhoneVault
    flows: FlowLibrary
    directory: CenterDirectory
    messages: dict
    engine: sa.Engine
    sessionmaker: so.sessionmaker

    @classmethod
    def build(cls, settings: Settings, *, load_flows: bool = True) -> Services:
        """Connect to Redis and the database and load the flows (raises FlowLoadError)."""
        from gateway.i18n import engine_messages

        client = connect(settings)
        messages = engine_messages()
        library = FlowLibrary(settings.flows_dir, messages, ussd_limit=settings.ussd_max_chars,
                              archive=RedisFlowArchive(client))
        if load_flows:
            library.load()
        engine = db.make_engine(settings.database_url)
        # A forked child (RQ's forking workers) must not reuse the parent's connections.
        engine_ref = weakref.ref(engine)
        os.register_at_fork(after_in_child=lambda: _dispose_in_child(engine_ref))
        return cls(settings=settings, redis=client, store=SessionStore(client),
                   queue=rq.Queue(QUEUE_NAME, connection=client), vault=PhoneVault(
                       settings.secret_key), flows=library, directory=CenterDirectory(client),
                   messages=messages, engine=engine, sessionmaker=db.make_sessionmaker(engine))

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()
        self.redis.close()


def _dispose_in_child(engine_ref: weakref.ref) -> None:
    engine = engine_ref()
    if engine is not None:
        engine.dispose(close=False)


@functools.cache
def for_worker() -> Services:
    """Return this worker process's services, built once from the environment."""
    from gateway.settings import require_secret_key

    return Services.build(require_secret_key(Settings.from_env(), "worker"))
