"""Settings, from the environment (``CALLHOLD_`` prefix) or arguments; never read at import time."""

from __future__ import annotations

import ipaddress
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["ADMIN_TOKEN_MIN_LENGTH", "DEFAULT_ADMIN_TOKEN", "FixedSettings", "Settings"]

DEFAULT_ADMIN_TOKEN = "change-me-admin"
"""The admin token of a callhold nobody configured: fine on the embedded voicesim, refused on Twilio."""

ADMIN_TOKEN_MIN_LENGTH = 16
"""The shortest admin token accepted with real Twilio credentials."""

_TOKEN_HINT = "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute ``http(s)://host...`` URL (with a valid port, if any)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and url == url.strip()


def _unreachable_from_twilio(url: str) -> str | None:
    """Why Twilio could never request ``url`` (its host is this machine or a private network), or
    ``None``. Only what the URL itself says: a host name is not resolved."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "is this machine"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.is_loopback or address.is_unspecified:
        return "is this machine"
    if address.is_private or address.is_link_local:
        return "is a private address"
    return None


class Settings(BaseSettings):
    """Everything callhold needs to run. With no Twilio credentials it embeds voicesim."""

    model_config = SettingsConfigDict(env_prefix="CALLHOLD_", extra="ignore")

    database_url: str = Field("sqlite:///callhold.db", description="SQLAlchemy URL (SQLite or PostgreSQL)")
    twilio_account_sid: str | None = Field(None, description="Real Twilio: the account SID")
    twilio_auth_token: SecretStr | None = Field(None, description="Real Twilio: the auth token")
    twilio_webhook_shared_key: SecretStr | None = Field(
        None,
        description="Real Twilio: the secret of the SharedKey a Webhook Rule signs callhold's webhooks with "
        "(requests carrying X-Twilio-Webhooks-Signature-Settings); others stay signed with the auth token",
    )
    twilio_api_base_url: str | None = Field(
        None,
        description="Send the SDK's requests here instead of api.twilio.com (e.g. a standalone voicesim "
        "at http://127.0.0.1:8765); only the transport changes",
    )
    twilio_timeout: float = Field(
        10.0,
        gt=0,
        le=300,
        description="Real Twilio: seconds a REST request may take before it counts as failed "
        "(Twilio unreachable: the domain compensates, as for any refusal)",
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8000",
        description="The URL Twilio reaches callhold at (behind a proxy: the proxy's URL); "
        "webhook signatures are checked against it",
    )
    caller_id: str = Field("+15550001000", description="The Twilio number calls come in on and go out from")
    strategy: Literal["conference", "legs"] = Field("conference", description="Default hold strategy")
    admin_token: SecretStr = Field(
        SecretStr(DEFAULT_ADMIN_TOKEN),
        validate_default=True,  # the default is what real Twilio refuses
        description="Bearer token that sees (and controls) every call",
    )
    hold_music_url: str = Field(
        "/media/hold-music.wav",
        description="Default hold music (MP3/WAV URL; a path is served by callhold itself); looped in TwiML",
    )
    reminder_interval: int = Field(30, ge=5, description="Seconds between 'thanks for holding' reminders")
    agent_reminder_after: int = Field(60, ge=5, description="Seconds on hold before the agent is reminded")
    max_hold: int = Field(300, ge=10, description="Seconds on hold before the max-hold action")
    max_hold_action: Literal["resume", "announce"] = Field("resume", description="What max hold does")
    agent_hangup_policy: Literal["requeue", "hangup"] = Field(
        "requeue",
        description="If the agent hangs up during a hold: back to the queue, or a message and hang-up",
    )
    dispatch_every: int = Field(
        15,
        ge=5,
        description="Seconds between checks that no customer waits while an agent is free "
        "(a safety net: a customer moved to a free agent whose redirect Twilio refused, say)",
    )
    voicesim_speed: float = Field(1.0, gt=0, description="Embedded voicesim: virtual seconds per real second")
    migrate_on_start: bool = Field(
        True,
        description="`callhold serve` applies the migrations as it starts; false: it only checks the "
        "schema is at this release's head (and refuses to start if not), so its database role needs "
        "no DDL rights -- run `callhold db upgrade` with one that has them",
    )

    @field_validator("admin_token")
    @classmethod
    def _admin_token_guards_real_calls(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        """With real Twilio credentials the admin token controls real people's calls: refuse the
        README's default and short ones. (The fields above it are validated first: ``info.data``
        holds the Twilio credentials, when they are valid.)"""
        real = info.data.get("twilio_account_sid") and info.data.get("twilio_auth_token")
        token = value.get_secret_value().strip()
        if not real or (token != DEFAULT_ADMIN_TOKEN and len(token) >= ADMIN_TOKEN_MIN_LENGTH):
            return value
        if token == DEFAULT_ADMIN_TOKEN:
            raise PydanticCustomError(
                "admin_token_default",
                "the default 'change-me-admin' is refused with real Twilio (CALLHOLD_TWILIO_ACCOUNT_SID "
                "and _AUTH_TOKEN are set): set a secret of your own ({hint})",
                {"hint": _TOKEN_HINT},
            )
        raise PydanticCustomError(
            "admin_token_short",
            "{length} characters is too short with real Twilio: use at least {least} ({hint})",
            {"length": len(token), "least": ADMIN_TOKEN_MIN_LENGTH, "hint": _TOKEN_HINT},
        )

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url_is_http(cls, value: str) -> str:
        """Twilio is given URLs under it, and signatures are checked against it: without a scheme
        and host (``callhold.example.com``, ``localhost:8000``) no webhook could ever match."""
        if not _is_http_url(value):
            raise PydanticCustomError("url", "expected an http(s)://host[:port][/path] URL")
        parts = urlsplit(value)
        if parts.query or parts.fragment:
            raise PydanticCustomError("url", "expected no ?query or #fragment: callhold's paths go after it")
        return value

    @field_validator("hold_music_url")
    @classmethod
    def _hold_music_url_is_playable(cls, value: str) -> str:
        """A path is served by callhold (the public base URL goes before it); anything else is given
        to Twilio as it is, so it must be an absolute URL Twilio can fetch."""
        if (value.startswith("/") and not value.startswith("//")) or _is_http_url(value):
            return value
        raise PydanticCustomError(
            "url", "expected an http(s):// URL of an MP3/WAV, or a path beginning with / served by callhold"
        )

    @property
    def uses_real_twilio(self) -> bool:
        """True when Twilio credentials are configured."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @model_validator(mode="after")
    def _twilio_all_or_nothing(self) -> Self:
        """Refuse a half-configured Twilio: with only the account SID or only the auth token (or only
        an API base URL) callhold would quietly embed voicesim and real calls would never arrive."""
        sid = bool(self.twilio_account_sid)
        token = bool(self.twilio_auth_token and self.twilio_auth_token.get_secret_value())
        if sid != token:
            given, missing = ("ACCOUNT_SID", "AUTH_TOKEN") if sid else ("AUTH_TOKEN", "ACCOUNT_SID")
            raise PydanticCustomError(
                "twilio_half_configured",
                "CALLHOLD_TWILIO_{given} is set but CALLHOLD_TWILIO_{missing} is not: set both to use "
                "Twilio, or neither for the embedded voicesim",
                {"given": given, "missing": missing},
            )
        unreachable = _unreachable_from_twilio(self.public_base_url)
        if sid and token and not self.twilio_api_base_url and unreachable:
            # Twilio would be given hold music, actions and callbacks it can never fetch: every call
            # would be silence or "an application error has occurred".
            raise PydanticCustomError(
                "public_base_url_unreachable",
                "CALLHOLD_PUBLIC_BASE_URL {url} {why}: with real Twilio it must be the public URL "
                "Twilio reaches callhold at (your domain, or a tunnel's URL such as ngrok's)",
                {"url": self.public_base_url, "why": unreachable},
            )
        if self.twilio_api_base_url and not sid:
            raise PydanticCustomError(
                "twilio_half_configured",
                "CALLHOLD_TWILIO_API_BASE_URL is set but CALLHOLD_TWILIO_ACCOUNT_SID and "
                "CALLHOLD_TWILIO_AUTH_TOKEN are not: the SDK needs them to send requests there "
                "(unset it for the embedded voicesim)",
            )
        return self


class FixedSettings(Settings):
    """:class:`Settings` from arguments only: the environment is not read (``callhold demo``, whose
    run must not depend on how a server is configured on the same machine)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the arguments."""
        del settings_cls, env_settings, dotenv_settings, file_secret_settings
        return (init_settings,)
