"""ORM models. The schema itself is owned by the Alembic migrations in db/migrations.

tests/integration/test_migrations.py checks that these models and the migrated
schema agree, so a model change without a migration fails CI.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Series(Base):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    folder: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    year: Mapped[int | None] = mapped_column(Integer)
    source_kind: Mapped[str] = mapped_column(String(50), default="local")
    source_url: Mapped[str | None] = mapped_column(Text)
    monitored: Mapped[bool] = mapped_column(Boolean, default=True)
    overview: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(20))
    image_url: Mapped[str | None] = mapped_column(Text)
    # pending / loading_episodes / ... / completed / failed (see sources)
    loading_status: Mapped[str] = mapped_column(String(40), default="completed")
    loading_error: Mapped[str | None] = mapped_column(Text)
    # per-series options: filters (include/exclude regex, not_before, durations), season mode...
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # source bookkeeping: ETag, Last-Modified, last refresh
    source_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # metadata (migration 0007): the TMDB match and what the loader (metadata/loader.py) did
    tmdb_id: Mapped[int | None] = mapped_column(Integer)
    # how tmdb_id was set: "auto" (confident match), "manual" (Identify), "none" (user: no match)
    tmdb_match: Mapped[str | None] = mapped_column(String(10))
    # the metadata loader's step (pending / loading_episodes / loading_nfo / loading_logo /
    # loading_images / completed / failed); loading_status stays the source's own
    metadata_status: Mapped[str | None] = mapped_column(String(40))
    episodes_loaded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    has_nfo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    logo_loaded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    images_loaded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    loading_started_at: Mapped[datetime | None] = mapped_column()
    loading_completed_at: Mapped[datetime | None] = mapped_column()
    # the last error of each metadata step ({"nfo": "...", "images": "..."}); retried by repair
    metadata_errors: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # artwork we wrote: file name relative to the series folder -> sha256 (ours vs another tool's)
    artwork: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    episodes: Mapped[list[Episode]] = relationship(
        back_populates="series", cascade="all, delete-orphan", passive_deletes=True
    )


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("series_id", "season", "episode"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    season: Mapped[int] = mapped_column(Integer)
    episode: Mapped[int] = mapped_column(Integer)
    absolute_number: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    air_date: Mapped[date | None] = mapped_column(Date)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    # from the source or TMDB (migration 0007): the plot and the thumbnail's URL
    overview: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    tmdb_id: Mapped[int | None] = mapped_column(Integer)
    # the source's stable id for the episode (feed guid, video id, file URL)
    remote_id: Mapped[str | None] = mapped_column(Text)
    # ordered candidate streams: [{url, kind, quality, mime, size, headers}]
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # known at the source (False: found only on disk)
    at_source: Mapped[bool] = mapped_column(Boolean, default=True)
    monitored: Mapped[bool] = mapped_column(Boolean, default=True)
    # rejected by the series' filters (sources/filters.py); kept so numbers never shift
    filtered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_downloaded: Mapped[bool] = mapped_column(Boolean, default=False)
    # removed by a retention rule (or by hand): never missing, so never downloaded again
    # until the user undoes it (migration 0010). No Python default: bulk inserts that do not
    # name the column get the server's false.
    ignored: Mapped[bool] = mapped_column(Boolean, server_default=false())
    file_path: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    series: Mapped[Series] = relationship(back_populates="episodes")


class QueueItem(Base):
    """A download queue row; at most one active (queued/downloading) row per episode."""

    __tablename__ = "download_queue"
    __table_args__ = (
        Index(
            "uq_download_queue_active_episode",
            "episode_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'downloading')"),
            postgresql_where=text("status IN ('queued', 'downloading')"),
        ),
        Index("ix_download_queue_claim", "status", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    downloaded_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    total_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # a worker's claim: who holds it and until when (renewed by its heartbeat)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    source_host: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class DownloadHistory(Base):
    __tablename__ = "download_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("episodes.id", ondelete="SET NULL"), index=True
    )
    series_key: Mapped[str] = mapped_column(String(200))
    season: Mapped[int] = mapped_column(Integer)
    episode: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    file_path: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    candidate_url: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)


class SystemSetting(Base):
    """Small persisted state: scheduler runs, setup flags."""

    __tablename__ = "system_settings"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    api_keys: Mapped[list[ApiKey]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # sha256 of the key; the key itself is shown once
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(back_populates="api_keys")


class DownloadHost(Base):
    """Per source host: when a download from it last started or finished (politeness delay),
    and its adaptive limit after a 429/503 or repeated timeouts (downloads/politeness.py),
    shared by every worker process's claim."""

    __tablename__ = "download_hosts"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_activity_at: Mapped[datetime] = mapped_column()
    throttle_limit: Mapped[int | None] = mapped_column(Integer)
    """The halved limit set at the last 429/503 (NULL: not lowered); grows back with time."""
    throttle_until: Mapped[datetime | None] = mapped_column()
    """No new download from the host before this (its Retry-After)."""
    timed_out_at: Mapped[datetime | None] = mapped_column()
    """When an attempt on the host last ended in a timeout (two close together limit it)."""


class LoginAttempt(Base):
    """A login attempt, reserved before its password is checked (auth/throttle.py): it counts
    as a failure unless the login succeeds. Shared by every process through the database."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column()


class DownloadHostLimit(Base):
    """A source host's own download limits (API: /api/download-hosts), read by every claim
    in every process; a NULL keeps the global setting."""

    __tablename__ = "download_host_limits"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    concurrency: Mapped[int | None] = mapped_column(Integer)
    delay_s: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DownloadWorker(Base):
    """A worker pool that holds its liveness lock (PostgreSQL, downloads/liveness.py): only
    owners listed here are checked, and requeued when their lock is gone."""

    __tablename__ = "download_workers"

    owner: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime] = mapped_column()


class AuthSession(Base):
    """A browser session (kind "session", with its CSRF token) or a bearer token ("token").

    Only the sha256 of the secret is stored; the secret itself is handed out once.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class LibraryFolder(Base):
    """A library folder as the scanner last read it; an unchanged mtime means "don't read again".

    One row per directory of a series folder (the series folder itself included). ``mtime_ns``
    is -1 when the folder must be read on the next scan anyway (it changed while being read,
    could not be read, or holds files that could not be matched yet). ``linked`` (on the series
    folder's own row) is the number of downloaded episodes of the series after the scan, so a
    database change behind the scanner's back triggers a full read of that series.
    """

    __tablename__ = "library_folders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # relative to library_dir, "/"-separated; the series folder's own row has path == series_folder
    path: Mapped[str] = mapped_column(Text, unique=True)
    series_folder: Mapped[str] = mapped_column(String(255), index=True)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), index=True
    )
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    linked: Mapped[int | None] = mapped_column(Integer)
    scanned_at: Mapped[datetime] = mapped_column(default=utcnow)


class LibraryIssue(Base):
    """Something the scanner found but could not use: an unmapped folder, an unparsed file...

    Issues of a folder are replaced whenever that folder is read again.
    """

    __tablename__ = "library_issues"
    __table_args__ = (Index("ix_library_issues_kind_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # unmapped, unparsed, unmatched, duplicate, unreadable, undecodable, symlink_loop,
    # broken_link, stray
    kind: Mapped[str] = mapped_column(String(20))
    # relative to library_dir, "/"-separated; undecodable bytes shown as \xNN
    path: Mapped[str] = mapped_column(Text)
    series_folder: Mapped[str] = mapped_column(String(255), index=True)
    # the directory the issue was found in ("" for the library root)
    folder: Mapped[str] = mapped_column(Text, index=True)
    detail: Mapped[str] = mapped_column(Text)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)


class Tag(Base):
    """A label a user attaches to series (the Sonarr v3 API's tags; migration 0008)."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(100), unique=True)


class SeriesTag(Base):
    """Which series carry which tag."""

    __tablename__ = "series_tags"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# The series list is sorted by name by default (migration 0005).
Index("ix_series_name", Series.name)


class SeriesLibraryRules(Base):
    """A series' own naming templates and retention rule (unset keys use the global ones)."""

    __tablename__ = "series_library_rules"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True
    )
    naming: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retention: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RenameBatch(Base):
    """One rename of a series' files: the journal written before the first file moves.

    status: applying (files may be moving: a start finishes it) / applied / undoing /
    undone / failed. ``moves`` is the list of [old, new] paths relative to the library root
    (companions included); ``episodes`` maps episode ids to their old and new file paths.
    """

    __tablename__ = "rename_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    old_folder: Mapped[str] = mapped_column(String(255))
    new_folder: Mapped[str] = mapped_column(String(255))
    moves: Mapped[list[Any]] = mapped_column(JSON, default=list)
    episodes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
