"""Settings from the PORTAL_* environment variables: one object, built once and passed in."""

from __future__ import annotations

import os
import re
import secrets
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class Settings(BaseSettings):
    """Everything an operator can configure; defaults run on a fresh machine with nothing else."""

    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    database_url: str = "sqlite:///portal.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    base_url: str = ""
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_tls: SmtpTls = SmtpTls.NONE
    mail_from: str = "portal@localhost"
    firm_name: str = "Demo Firm"
    firm_language: str = "en"
    secret: str = ""
    invite_ttl_hours: int = Field(default=168, ge=1)
    check_dns: bool = False
    # Reverse proxies whose X-Forwarded-For names the client (R33): addresses or networks,
    # separated by commas or spaces. Nobody else's header is believed.
    trusted_proxies: str = ""
    # A session ends after this long without activity (R34).
    session_idle_hours: float = Field(default=12, gt=0)
    # How many people one client may invite a day from the portal (R37).
    client_invites_per_day: int = Field(default=20, ge=0)
    # The embedded SMTP server's port when PORTAL_SMTP_HOST is unset (0: any free port).
    dev_smtp_port: int = Field(default=0, ge=0, le=65535)
    # Where the secret, the development mailbox and other files live (CONTRACT.md).
    data_dir: Path = Field(
        default_factory=lambda data: default_data_dir(str(data.get("database_url", "")))
    )

    @field_validator("smtp_tls", mode="before")
    @classmethod
    def _tls_aliases(cls, value: object) -> object:
        # Operators write PORTAL_SMTP_TLS=true/false as often as a mode name.
        aliases = {"": "none", "false": "none", "0": "none", "true": "starttls", "1": "starttls"}
        return aliases.get(str(value).strip().lower(), str(value).strip().lower())

    @field_validator("firm_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from portal_ui.i18n import LANGUAGES

        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        # A relative folder means the same folder whichever directory a command later runs in.
        return value.expanduser().resolve()

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for part in value.replace(",", " ").split():
            ip_network(part, strict=False)  # raises ValueError with the bad entry
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        parts = self.trusted_proxies.replace(",", " ").split()
        return tuple(ip_network(part, strict=False) for part in parts)

    @property
    def secure_cookies(self) -> bool:
        """R36: cookies are Secure when the product is reached over https."""
        return self.public_base_url.startswith("https://")

    @property
    def public_base_url(self) -> str:
        """The origin used in links inside emails."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def embedded_smtp(self) -> bool:
        """True when no SMTP host is configured, so the embedded development server runs."""
        return not self.smtp_host

    def session_secret(self) -> str:
        """PORTAL_SECRET, or one generated on first start and kept in the data folder."""
        if self.secret:
            return self.secret
        path = self.data_dir / ".portal-secret"
        if path.exists():
            return path.read_text().strip()
        value = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
        path.chmod(0o600)
        return value


def default_data_dir(database_url: str) -> Path:
    """The folder beside a SQLite file; for any other database a per-user folder of that
    database's own (XDG_DATA_HOME or ~/.local/share, then portal-ui/<database>), so that the
    processes sharing a database share their files and those of other databases do not."""
    try:
        url = make_url(database_url)
    except ArgumentError:  # reported when the engine is made; any folder will do until then
        return _user_data_home() / "portal-ui" / "default"
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            return Path(url.database).resolve().parent
        return _user_data_home() / "portal-ui" / "sqlite-memory"
    where = [url.get_backend_name(), url.host or "local", str(url.port or ""), url.database or ""]
    name = "-".join(part for part in where if part)
    return _user_data_home() / "portal-ui" / re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _user_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def load_settings(**overrides: object) -> Settings:
    """Read the environment; keyword overrides win (tests and commands use them)."""
    return Settings(**overrides)
