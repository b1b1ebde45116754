"""Typed settings, read once from the environment (prefix `TXN_`) or a `.env` file."""

import datetime as dt
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# A key anyone could guess is no key; make one with secrets.token_urlsafe(32).
MIN_API_KEY_LENGTH = 24


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TXN_", env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        description="The warehouse (a secret: it may hold a password). When unset, the "
        "PostgreSQL server the project runs itself.",
    )
    landing: str = Field(
        default=str(PROJECT_ROOT / "var" / "landing"),
        description="The landing zone: a folder, or s3://bucket/prefix.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="When set, every data endpoint requires it (X-API-Key, or the password "
        "of HTTP Basic).",
    )
    rate_limit_reads: str = Field(
        default="50/second;1000/minute",
        description="Reads allowed per client (limits' notation; empty: no limit).",
    )
    rate_limit_uploads: str = Field(
        default="10/minute", description="Uploads allowed per client (empty: no limit)."
    )
    statement_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest statement the API runs."
    )
    generate_daily: bool = Field(
        default=False,
        description="Run the schedule that generates yesterday's simulated transactions. Off "
        "unless asked (`make run` asks): simulated rows must not mix with real ones unasked.",
    )
    api_port: int = 8000
    dagster_port: int = 3000
    alert_webhook_url: SecretStr | None = Field(
        default=None,
        description="Where failures are posted: a Slack-compatible incoming webhook (a secret: "
        "its address is its password). Unset: they are logged only.",
    )
    dagster_ui_url: str | None = Field(
        default=None,
        description="Address of the Dagster UI in the links of failure messages (behind the "
        "proxy, https://HOST/dagster). Unset: http://127.0.0.1:<dagster_port>.",
    )
    source_url: str | None = Field(
        default=None,
        description="The repository the image was built from (set at build time): the Dagster "
        "catalog links each asset to its code there. Unset: to the files on this machine.",
    )
    source_revision: str | None = Field(
        default=None, description="The commit the image was built from (set at build time)."
    )
    refresh_workers: int = Field(
        default=2,
        ge=1,
        le=32,
        description="Connections that share a refresh rewriting most days (a first load, a "
        "rebuild): one per core PostgreSQL can give it.",
    )
    max_upload_bytes: int = Field(default=2 * 1024**3, description="Largest accepted upload.")
    upload_chunk_bytes: int = Field(default=1024**2, description="Streaming chunk size.")
    reject_file_fraction: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="A file is refused as a whole when more than this share of its rows is "
        "bad (and at least reject_file_min_rows are).",
    )
    reject_file_min_rows: int = Field(
        default=1000, ge=1, description="Bad rows a file may always have, whatever its size."
    )
    max_decompressed_bytes: int = Field(
        default=8 * 1024**3, description="Largest accepted size of a gzip file's contents."
    )
    settle_seconds: float = Field(
        default=2.0,
        description="A dropped file is ingested only once its size and mtime held this long.",
    )
    history_start: dt.date = Field(
        default=dt.date(2024, 1, 1), description="First day of `daily_transactions`."
    )
    rows_per_day: int = Field(
        default=150, ge=1, description="Simulated transactions per day (before weekday rhythm)."
    )
    local_pg_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "pgdata",
        description="Data folder of the local PostgreSQL server (kept between runs).",
    )
    local_pg_port: int = 54329
    dagster_home: Path = Field(
        default=PROJECT_ROOT / "var" / "dagster_home",
        description="DAGSTER_HOME for `make run`; it receives a copy of dagster.yaml.",
    )

    @field_validator("api_key")
    @classmethod
    def _long_enough(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and 0 < len(key.get_secret_value()) < MIN_API_KEY_LENGTH:
            raise ValueError(
                f"TXN_API_KEY is shorter than {MIN_API_KEY_LENGTH} characters, easy to guess; "
                'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        return key

    @property
    def warehouse_url(self) -> str:
        """libpq URL of the warehouse (psycopg 3 takes it as is)."""
        if self.database_url:
            return self.database_url.get_secret_value()
        return local_database_url(self.local_pg_port, "txn")


def local_database_url(port: int, database: str) -> str:
    return f"postgresql://txn@127.0.0.1:{port}/{database}"


def sqlalchemy_url(url: str) -> str:
    """The same database as a SQLAlchemy URL, pinned to psycopg 3."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgres", "postgresql") else url


@lru_cache
def get_settings() -> Settings:
    return Settings()
