"""Settings from the environment (12-factor). Invalid settings fail at start, naming each one."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import phonenumbers

from .connections import (
    Connection,
    Connections,
    Defaults,
    Inbound,
    KaleyraAccount,
    digest,
    load_connections_file,
    org_key,
)
from .fields import parse_duration, parse_phone
from .hubspot_app import HubSpotApp, hubspot_app_from_env
from .kaleyra.client import POD_HOSTS
from .languages import is_language
from .reports.settings import Reports, reports_from_env


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    kaleyra_pod: str = "in"
    kaleyra_sid: str | None = None
    kaleyra_api_key: str | None = field(default=None, repr=False)
    kaleyra_sender: str | None = None
    kaleyra_base_url: str | None = None
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    default_region: str | None = None
    default_language: str = "en"
    database_url: str = "sqlite:///lto-connector.db"
    hubspot_client_secret: str | None = field(default=None, repr=False)
    public_url: str | None = None
    proxy_hops: int = 1
    connect_timeout: float = 3.05
    read_timeout: float = 15.0
    dedupe_window_s: int = 86_400
    log_level: str = "INFO"
    redis_url: str | None = None  # shares the send rate between hosts (scaled out)
    retry_horizon_s: int = 86_400
    retry_base_s: float = 2.0
    rate_limit: float = 80.0  # messages per second per Kaleyra account; 0 = no limit
    retry_uncertain: bool = False
    expiry_margin_s: int = 60  # an offer is sent only while at least this long remains
    worker_threads: int = 192  # requests a delivery worker keeps in flight at most
    commit_socket: str | None = None  # set by `serve`: its commit process (store/commit_process)
    admin_keys: tuple[str, ...] = field(default=(), repr=False)
    account: str = "default"  # the Kaleyra account's name in pauses, metrics and logs
    connections_file: str | None = None  # a YAML file of tenants; replaces the KALEYRA_* setup
    default_template: str | None = None
    offer_lifetime: str | None = None  # the expiry an offer without one gets, e.g. "14d"
    shopify_api_secret: str | None = field(default=None, repr=False)
    salesforce_org_ids: tuple[str, ...] = ()
    reports: Reports = field(default_factory=Reports, repr=False)  # env-only connection's
    hubspot: HubSpotApp = field(default_factory=HubSpotApp)  # OAuth install, waiting actions

    @property
    def lease_ms(self) -> int:
        """How long one attempt may hold an event: twice the upstream timeouts, plus 5 s."""
        return int((2 * (self.connect_timeout + self.read_timeout) + 5) * 1000)

    @property
    def sandbox(self) -> bool:
        """No Kaleyra credentials: validate like Kaleyra, send nothing."""
        return not (self.kaleyra_sid or self.kaleyra_api_key or self.kaleyra_sender)

    @property
    def open_access(self) -> bool:
        """Sandbox without API keys: anyone on the network may try mappings."""
        return not self.connections_file and self.sandbox and not self.api_keys

    def load_connections(self, env: Mapping[str, str] | None = None) -> Connections:
        """The tenants: from ``CONNECTOR_CONNECTIONS``, else the one the environment describes."""
        if self.connections_file:
            return load_connections_file(self.connections_file, env)
        account = KaleyraAccount(
            name=self.account,
            sid=self.kaleyra_sid,
            api_key=self.kaleyra_api_key,
            sender=self.sender_e164,
            pod=self.kaleyra_pod,
            base_url=self.kaleyra_base_url,
            rate=self.rate_limit,
        )
        defaults = Defaults(
            language=self.default_language,
            region=self.default_region,
            template_name=self.default_template,
            offer_lifetime=self.offer_lifetime,
        )
        inbound = Inbound(
            api_keys=frozenset(digest(k) for k in self.api_keys),
            shopify_secret=self.shopify_api_secret,
            salesforce_org_ids=frozenset(org_key(o) for o in self.salesforce_org_ids),
        )
        return Connections(
            [
                Connection(
                    self.account,
                    account,
                    defaults,
                    inbound,
                    open_access=self.open_access,
                    reports=self.reports,
                )
            ]
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        problems: list[str] = []

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, default: float, kind: type = float) -> Any:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except ValueError:
                problems.append(f"{name} must be a number, not {raw!r}")
                return default
            if value < 0:
                problems.append(f"{name} must not be negative")
            return value

        def keys_of(name: str) -> tuple[str, ...]:
            return tuple(k.strip() for k in (text(name) or "").split(",") if k.strip())

        keys = keys_of("CONNECTOR_API_KEYS")
        reports, report_problems = reports_from_env(env)
        problems.extend(report_problems)
        settings = cls(
            kaleyra_pod=(text("KALEYRA_POD") or "in").lower(),
            kaleyra_sid=text("KALEYRA_SID"),
            kaleyra_api_key=text("KALEYRA_API_KEY"),
            kaleyra_sender=text("KALEYRA_SENDER"),
            kaleyra_base_url=text("KALEYRA_BASE_URL"),
            api_keys=keys,
            default_region=(text("CONNECTOR_DEFAULT_REGION") or "").upper() or None,
            default_language=text("CONNECTOR_DEFAULT_LANGUAGE") or "en",
            database_url=text("CONNECTOR_DATABASE_URL") or cls.database_url,
            hubspot_client_secret=text("HUBSPOT_CLIENT_SECRET"),
            public_url=(text("CONNECTOR_PUBLIC_URL") or "").rstrip("/") or None,
            proxy_hops=number("CONNECTOR_PROXY_HOPS", 1, int),
            connect_timeout=number("KALEYRA_CONNECT_TIMEOUT", 3.05),
            read_timeout=number("KALEYRA_READ_TIMEOUT", 15.0),
            dedupe_window_s=number("CONNECTOR_DEDUPE_WINDOW", 86_400, int),
            log_level=(text("CONNECTOR_LOG_LEVEL") or "INFO").upper(),
            redis_url=redis_setting(text("CONNECTOR_REDIS_URL"), text("CONNECTOR_QUEUE_URL")),
            retry_horizon_s=number("CONNECTOR_RETRY_HORIZON", 86_400, int),
            retry_base_s=number("CONNECTOR_RETRY_BASE", 2.0),
            rate_limit=number("KALEYRA_RATE_LIMIT", 80.0),
            expiry_margin_s=number("CONNECTOR_EXPIRY_MARGIN", 60, int),
            worker_threads=number("CONNECTOR_WORKER_THREADS", 192, int),
            commit_socket=text("CONNECTOR_COMMIT_SOCKET"),
            retry_uncertain=(text("CONNECTOR_RETRY_UNCERTAIN") or "").lower()
            in ("1", "true", "yes"),
            admin_keys=keys_of("CONNECTOR_ADMIN_KEYS"),
            connections_file=text("CONNECTOR_CONNECTIONS"),
            default_template=text("CONNECTOR_DEFAULT_TEMPLATE"),
            offer_lifetime=text("CONNECTOR_OFFER_LIFETIME"),
            shopify_api_secret=text("SHOPIFY_API_SECRET"),
            salesforce_org_ids=keys_of("SALESFORCE_ORG_IDS"),
            reports=reports,
            hubspot=hubspot_app_from_env(env),
        )
        settings = replace(settings, **overrides)
        settings.check(problems)
        return settings

    def check(self, problems: list[str] | None = None) -> None:
        problems = list(problems or [])
        if self.connections_file and not self.sandbox:
            problems.append(
                "CONNECTOR_CONNECTIONS is set: put the Kaleyra account in the connections file "
                "and unset KALEYRA_SID, KALEYRA_API_KEY and KALEYRA_SENDER"
            )
        elif not self.sandbox:
            missing = [
                name
                for name, value in (
                    ("KALEYRA_SID", self.kaleyra_sid),
                    ("KALEYRA_API_KEY", self.kaleyra_api_key),
                    ("KALEYRA_SENDER", self.kaleyra_sender),
                )
                if not value
            ]
            if missing:
                problems.append(
                    f"Kaleyra credentials are incomplete: set {', '.join(missing)} "
                    "(or unset all three to run in sandbox mode)"
                )
            if not self.api_keys:
                problems.append(
                    "CONNECTOR_API_KEYS is empty: with real Kaleyra credentials the connector "
                    "must not accept unauthenticated calls"
                )
            if self.kaleyra_sender and parse_phone(self.kaleyra_sender, None) is None:
                problems.append("KALEYRA_SENDER must be the business number with country code")
        if self.kaleyra_pod not in POD_HOSTS:
            problems.append(f"KALEYRA_POD must be one of {', '.join(POD_HOSTS)}")
        if self.default_region and self.default_region not in phonenumbers.SUPPORTED_REGIONS:
            problems.append(
                f"CONNECTOR_DEFAULT_REGION {self.default_region!r} is not a region code"
            )
        if not is_language(self.default_language):
            problems.append(f"CONNECTOR_DEFAULT_LANGUAGE {self.default_language!r} is not known")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            problems.append("CONNECTOR_REDIS_URL must start with redis://, rediss:// or unix://")
        if self.worker_threads < 1:
            problems.append("CONNECTOR_WORKER_THREADS must be at least 1")
        if self.offer_lifetime and not parse_duration(self.offer_lifetime):
            problems.append(
                f"CONNECTOR_OFFER_LIFETIME {self.offer_lifetime!r} is not a duration such as 14d"
            )
        if self.default_template and not re.fullmatch(r"[a-z0-9_]{1,512}", self.default_template):
            problems.append("CONNECTOR_DEFAULT_TEMPLATE must be a WhatsApp template name")
        problems.extend(self.hubspot.problems(self.hubspot_client_secret, self.public_url))
        if problems:
            raise ConfigError(problems)

    @property
    def sender_e164(self) -> str | None:
        return parse_phone(self.kaleyra_sender, None) if self.kaleyra_sender else None


def redis_setting(redis_url: str | None, queue_url: str | None) -> str | None:
    """``CONNECTOR_REDIS_URL``; the older ``CONNECTOR_QUEUE_URL`` is read when it names Redis.
    (A ``sqlite:///`` queue URL is ignored: the event table is the queue now.)"""
    if redis_url:
        return redis_url
    if queue_url and not queue_url.startswith("sqlite:"):
        return queue_url
    return None
