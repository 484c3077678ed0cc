"""Connections: the tenants one connector serves, and who may call as which.

A connection is one customer: its Kaleyra account (sid, API key, sender, pod, rate), the defaults
its offers take (language, template, region, offer lifetime, header), the identities its platforms
call with (API keys, Basic credentials, HubSpot portals, Shopify shops, Salesforce orgs), its
low-code mappings and its template shapes. The caller's credential picks the connection.

Without ``CONNECTOR_CONNECTIONS`` the environment describes one connection, ``default``, exactly as
before. With it, a YAML file lists them; every problem in it is reported at start, by path.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .fields import parse_duration, parse_phone
from .kaleyra.client import POD_HOSTS
from .languages import is_language
from .mapping import FieldMapping, MappingError, compile_mapping
from .reports.settings import Reports, ReportsSchema, build_reports
from .templates import TemplateShape, TemplateShapeSchema

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAPPED_PLATFORMS = (
    "braze",
    "zoho",
    "moengage",
    "eloqua",
    "responsys",
    "leadsquared",
    "shopify",
    "salesforce",
)
CONSOLE_KEY_MIN = 16
HEADER_DEFAULTS = ("header_image_id", "header_image_url", "header_video_id", "header_video_url")


@dataclass(frozen=True)
class KaleyraAccount:
    """One Kaleyra account; without credentials it is a sandbox that sends nothing."""

    name: str
    sid: str | None = None
    api_key: str | None = field(default=None, repr=False)
    sender: str | None = None  # E.164
    pod: str = "in"
    base_url: str | None = None
    rate: float = 80.0  # messages per second; 0 = no limit

    @property
    def sandbox(self) -> bool:
        return not (self.sid and self.api_key and self.sender)


@dataclass(frozen=True)
class Defaults:
    language: str | None = "en"
    region: str | None = None
    template_name: str | None = None
    offer_lifetime: str | None = None  # e.g. "14d": the expiry an offer without one gets
    header: tuple[str, str] | None = None  # (header field, value)


@dataclass(frozen=True)
class Inbound:
    """Who may call as this connection. Secrets are kept as SHA-256 digests."""

    api_keys: frozenset[str] = frozenset()
    basic: frozenset[str] = frozenset()  # digests of "username:password"
    hubspot_portal_ids: frozenset[int] = frozenset()
    shopify_shops: frozenset[str] = frozenset()
    shopify_secret: str | None = field(default=None, repr=False)
    salesforce_org_ids: frozenset[str] = frozenset()  # first 15 characters
    console_keys: frozenset[str] = frozenset()  # digests: who may sign in to the console as it


@dataclass(frozen=True)
class Connection:
    name: str
    account: KaleyraAccount
    defaults: Defaults = Defaults()
    inbound: Inbound = Inbound()
    mappings: Mapping[str, FieldMapping] = field(default_factory=dict)
    templates: Mapping[str, TemplateShape] = field(default_factory=dict)
    open_access: bool = False  # sandbox with no keys: any caller is this connection
    reports: Reports = Reports()  # delivery reports: Kaleyra's callback in, each platform's out


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def org_key(org_id: str) -> str:
    """Salesforce ids come as 15 or 18 characters; the first 15 identify the org."""
    return org_id.strip()[:15]


class Connections:
    """Every connection, and the lookups that turn a caller's credential into one."""

    def __init__(self, connections: Iterable[Connection]) -> None:
        self.all = {c.name: c for c in connections}
        self._by: dict[str, dict[Any, Connection]] = {}
        problems: list[str] = []
        for kind, values in (
            ("API key", lambda c: c.inbound.api_keys),
            ("Basic credential", lambda c: c.inbound.basic),
            ("HubSpot portal id", lambda c: c.inbound.hubspot_portal_ids),
            ("Shopify shop", lambda c: c.inbound.shopify_shops),
            ("Salesforce org id", lambda c: c.inbound.salesforce_org_ids),
            ("console key", lambda c: c.inbound.console_keys),
        ):
            index: dict[Any, Connection] = {}
            for connection in self.all.values():
                for value in values(connection):
                    if value in index:
                        problems.append(
                            f"connections {index[value].name} and {connection.name} share a "
                            f"{kind}: each identity must pick one connection"
                        )
                    index[value] = connection
            self._by[kind] = index
        if problems:
            from .config import ConfigError

            raise ConfigError(problems)

    def __iter__(self) -> Any:
        return iter(self.all.values())

    @property
    def single(self) -> Connection | None:
        """The env-only connection, when there is exactly one."""
        return next(iter(self.all.values())) if len(self.all) == 1 else None

    @property
    def open(self) -> Connection | None:
        single = self.single
        return single if single is not None and single.open_access else None

    @property
    def sandbox(self) -> bool:
        return all(c.account.sandbox for c in self.all.values())

    def by_api_key(self, key: str | None) -> Connection | None:
        return self._by["API key"].get(digest(key)) if key else None

    def by_console_key(self, key: str | None) -> Connection | None:
        """The connection whose operators sign in to the console with ``key``."""
        return self._by["console key"].get(digest(key)) if key else None

    def by_basic(self, username: str, password: str) -> Connection | None:
        """Configured Basic credentials, else the password taken as an API key."""
        found = self._by["Basic credential"].get(digest(f"{username}:{password}"))
        return found or self.by_api_key(password)

    def by_portal(self, portal_id: Any) -> Connection | None:
        try:
            portal: int | None = int(portal_id)
        except (TypeError, ValueError):
            portal = None
        return self._by["HubSpot portal id"].get(portal) or self._any_of("HubSpot portal id")

    def by_shop(self, domain: str | None) -> Connection | None:
        shop = (domain or "").strip().lower()
        return self._by["Shopify shop"].get(shop) or self._any_of("Shopify shop")

    def by_org(self, org_id: str | None) -> Connection | None:
        return self._by["Salesforce org id"].get(org_key(org_id or ""))

    def _any_of(self, kind: str) -> Connection | None:
        """Env-only mode lists no portals or shops: the single connection takes them all."""
        single = self.single
        if single is not None and not self._by[kind]:
            return single
        return None


# --- the YAML file ---------------------------------------------------------------------------


class FromEnvironment(str):
    """A value the file gave as a whole ``${NAME}`` reference (how secrets must be given)."""


def interpolate(value: Any, env: Mapping[str, str], path: str, problems: list[str]) -> Any:
    """Replace ``${NAME}`` in every string with the environment's value (before the file is
    validated, so a filled value is checked as what it is: a URL, a number...)."""
    if isinstance(value, dict):
        return {
            k: interpolate(v, env, f"{path}.{k}" if path else str(k), problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [interpolate(v, env, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env or not env[name].strip():
            problems.append(f"{path}: environment variable {name} is not set")
            return ""
        return env[name].strip()

    filled = ENV_REFERENCE.sub(fill, value)
    return FromEnvironment(filled) if ENV_REFERENCE.fullmatch(value.strip()) else filled


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _env_references(original: Any, names: tuple[str, ...]) -> None:
    """Each of ``names`` must have been a whole ``${NAME}`` in the file (marshmallow's fields
    hand validators a plain ``str``, so this looks at the original input)."""
    given = original if isinstance(original, dict) else {}
    wrong = [n for n in names if n in given and not isinstance(given[n], FromEnvironment)]
    if wrong:
        raise ValidationError(
            {
                name: [
                    "Must be an environment reference such as ${ACME_KALEYRA_API_KEY}: "
                    "secrets stay out of the connections file."
                ]
                for name in wrong
            }
        )


class KaleyraSchema(_Strict):
    sid = fields.String(required=True)
    api_key = fields.String(required=True)
    sender = fields.String(required=True)
    pod = fields.String(load_default="in", validate=validate.OneOf(list(POD_HOSTS)))
    base_url = fields.Url(load_default=None, require_tld=False)
    rate = fields.Float(load_default=80.0, validate=validate.Range(min=0))

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def secrets_from_the_environment(self, data: Any, original: Any, **kwargs: Any) -> None:
        _env_references(original, ("api_key",))


class DefaultsSchema(_Strict):
    language = fields.String(load_default=None)
    region = fields.String(load_default=None)
    template_name = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z0-9_]+$"))
    offer_lifetime = fields.String(load_default=None)
    header_image_id = fields.String()
    header_image_url = fields.Url()
    header_video_id = fields.String()
    header_video_url = fields.Url()

    @validates_schema
    def check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("language") and not is_language(data["language"]):
            raise ValidationError("Not a WhatsApp language code.", "language")
        region = data.get("region")
        if region and region.upper() not in _regions():
            raise ValidationError("Not a region code such as IN or US.", "region")
        lifetime = data.get("offer_lifetime")
        if lifetime and not parse_duration(lifetime):
            raise ValidationError(
                "Must be a duration such as 14d, 48h, 90m or P14D.", "offer_lifetime"
            )
        if len([h for h in HEADER_DEFAULTS if data.get(h)]) > 1:
            raise ValidationError("Give one default header only.", "header_image_url")


class BasicSchema(_Strict):
    username = fields.String(required=True)
    password = fields.String(required=True)


class InboundSchema(_Strict):
    api_keys = fields.List(fields.String(validate=validate.Length(min=8)), load_default=list)
    basic = fields.List(fields.Nested(BasicSchema), load_default=list)
    hubspot_portal_ids = fields.List(fields.Integer(strict=False), load_default=list)
    shopify_shops = fields.List(fields.String(), load_default=list)
    shopify_secret = fields.String(load_default=None)
    salesforce_org_ids = fields.List(
        fields.String(validate=validate.Regexp(r"^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")),
        load_default=list,
    )
    # operators' keys for the console: like api_keys (literal, or ${ENV} references), stored as
    # SHA-256 digests; at least CONSOLE_KEY_MIN characters once filled in (build_connection)
    console_keys = fields.List(fields.String(), load_default=list)


class ConnectionSchema(_Strict):
    kaleyra = fields.Nested(KaleyraSchema, load_default=None)
    defaults = fields.Nested(DefaultsSchema, load_default=dict)
    inbound = fields.Nested(InboundSchema, load_default=dict)
    mappings = fields.Dict(
        keys=fields.String(validate=validate.OneOf(MAPPED_PLATFORMS)),
        values=fields.Dict(),
        load_default=dict,
    )
    templates = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[a-z0-9_]+$")),
        values=fields.Nested(TemplateShapeSchema),
        load_default=dict,
    )
    reports = fields.Nested(ReportsSchema, load_default=None)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def report_secrets_from_the_environment(self, data: Any, original: Any, **kw: Any) -> None:
        given = original.get("reports") if isinstance(original, dict) else None
        if not isinstance(given, dict):
            return
        problems: dict[str, Any] = {}
        for path, value in (
            ("callback_token", given.get("callback_token")),
            ("webengage.token", (given.get("webengage") or {}).get("token")
             if isinstance(given.get("webengage"), dict) else None),
            ("webhook.secret", (given.get("webhook") or {}).get("secret")
             if isinstance(given.get("webhook"), dict) else None),
        ):  # fmt: skip
            if value is not None and not isinstance(value, FromEnvironment):
                problems[f"reports.{path}"] = [
                    "Must be an environment reference such as ${ACME_CALLBACK_TOKEN}: "
                    "secrets stay out of the connections file."
                ]
        if problems:
            raise ValidationError(problems)


class FileSchema(Schema):
    class Meta:
        unknown = RAISE

    connections = fields.Dict(
        keys=fields.String(validate=validate.Regexp(NAME)),
        values=fields.Nested(ConnectionSchema),
        required=True,
        validate=validate.Length(min=1),
    )


def _regions() -> set[str]:
    import phonenumbers

    return set(phonenumbers.SUPPORTED_REGIONS)


def _messages(messages: Any, prefix: str) -> list[str]:
    """marshmallow's nested messages → ``a.b.c: text`` lines (dict ``value``/``key`` levels
    folded into the name they belong to)."""
    if isinstance(messages, dict):
        out: list[str] = []
        for key, value in messages.items():
            if key in ("_schema", "value"):
                name = prefix
            elif key == "key":
                name = f"{prefix} (the name)"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_messages(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {' '.join(messages)}"]
    if isinstance(messages, list):
        return [line for m in messages for line in _messages(m, prefix)]
    return [f"{prefix}: {messages}"]


def load_connections_file(path: str, env: Mapping[str, str] | None = None) -> Connections:
    """Read and check a connections file; every problem is reported at once, by path."""
    from .config import ConfigError

    env = os.environ if env is None else env
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError([f"CONNECTOR_CONNECTIONS: cannot read {path}: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"CONNECTOR_CONNECTIONS: {path} is not valid YAML: {exc}"]) from None
    problems: list[str] = []
    document = raw if isinstance(raw, dict) else {"connections": raw}
    filled = interpolate(document, env, "", problems)
    problems = [f"{path}: {problem}" for problem in problems]
    try:
        data = FileSchema().load(filled)
    except ValidationError as exc:
        lines = [f"{path}: {line}" for line in _messages(exc.messages, "")]
        raise ConfigError(problems + lines) from None
    built = []
    for name, spec in data["connections"].items():
        built.append(build_connection(name, spec, f"{path}: connections.{name}", problems))
    if problems:
        raise ConfigError(problems)
    return Connections(built)


def build_connection(
    name: str, spec: dict[str, Any], where: str, problems: list[str]
) -> Connection:
    kaleyra = spec.get("kaleyra") or {}
    sender = kaleyra.get("sender")
    if sender and parse_phone(sender, None) is None:
        problems.append(f"{where}.kaleyra.sender: must be the business number with country code")
    account = KaleyraAccount(
        name=name,
        sid=kaleyra.get("sid"),
        api_key=kaleyra.get("api_key"),
        sender=parse_phone(sender, None) if sender else None,
        pod=kaleyra.get("pod", "in"),
        base_url=kaleyra.get("base_url"),
        rate=kaleyra.get("rate", 80.0),
    )
    d = spec.get("defaults") or {}
    header = next(((h, d[h]) for h in HEADER_DEFAULTS if d.get(h)), None)
    defaults = Defaults(
        language=d.get("language") or "en",
        region=(d.get("region") or "").upper() or None,
        template_name=d.get("template_name"),
        offer_lifetime=d.get("offer_lifetime"),
        header=header,
    )
    i = spec.get("inbound") or {}
    for n, key in enumerate(i.get("console_keys", [])):
        if len(key.strip()) < CONSOLE_KEY_MIN:
            problems.append(
                f"{where}.inbound.console_keys[{n}]: must be at least {CONSOLE_KEY_MIN} "
                "characters (it signs in to the console, which can send, replay and resume)"
            )
    inbound = Inbound(
        api_keys=frozenset(digest(k) for k in i.get("api_keys", [])),
        basic=frozenset(digest(f"{b['username']}:{b['password']}") for b in i.get("basic", [])),
        hubspot_portal_ids=frozenset(i.get("hubspot_portal_ids", [])),
        shopify_shops=frozenset(s.strip().lower() for s in i.get("shopify_shops", [])),
        shopify_secret=i.get("shopify_secret"),
        salesforce_org_ids=frozenset(org_key(o) for o in i.get("salesforce_org_ids", [])),
        console_keys=frozenset(digest(k) for k in i.get("console_keys", [])),
    )
    mappings: dict[str, FieldMapping] = {}
    for platform, mapping in (spec.get("mappings") or {}).items():
        try:
            mappings[platform] = compile_mapping(mapping)
        except MappingError as exc:
            problems.extend(f"{where}.mappings.{platform}.{p}" for p in exc.problems)
    if (
        not account.sandbox
        and not (inbound.api_keys or inbound.basic)
        and not any((inbound.hubspot_portal_ids, inbound.shopify_shops, inbound.salesforce_org_ids))
    ):
        problems.append(f"{where}.inbound: a live connection needs at least one caller identity")
    return Connection(
        name=name,
        account=account,
        defaults=defaults,
        inbound=inbound,
        mappings=mappings,
        templates=dict(spec.get("templates") or {}),
        reports=build_reports(spec.get("reports")),
    )


__all__ = [
    "Connection",
    "Connections",
    "Defaults",
    "Inbound",
    "KaleyraAccount",
    "load_connections_file",
]
