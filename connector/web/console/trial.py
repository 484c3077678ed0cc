"""Try an offer: fill the form, preview it beside the exact Kaleyra request, send it.

``POST /try`` runs the connection's offer rules and template shapes (what ``POST /v1/messages``
runs) and, when the offer passes, keeps it server-side as a draft: the page shows the preview and
the request with the number masked, and the Send form carries only the draft's id. ``POST
/try/send`` sends the draft through the relay (``wa_source`` ``api``, platform ``console``): at
once on a sandbox connection; on a live one only after a confirmation page.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ...connections import Connection
from ...errors import ConnectorError, InvalidInput
from ...kaleyra import build_request
from ...offer import Offer, load_offer, wall_clock_ms
from ...relay import Submission
from ...templates import check_shape
from .auth import principal, signed_in
from .offer_form import (
    FORM_ERRORS,
    Preview,
    build_fields,
    errors_by_field,
    offer_input,
    template_choices,
)
from .present import masked_request, pretty
from .security import Refusal
from .session import console

PLATFORM = "console"
WA_SOURCE = "api"


def _connection(name: str | None) -> Connection:
    """The connection picked on the form, if this principal may use it."""
    allowed = principal().connections()
    if name:
        for connection in allowed:
            if connection.name == name:
                return connection
        raise Refusal(404, "Not found", "No such connection for this sign-in.")
    return allowed[0]


def _offer(connection: Connection, data: dict[str, Any]) -> Offer:
    """The connection's offer rules, then its template shapes (as every platform runs them)."""
    tenant = current_app.extensions["lto"].tenants[connection.name]
    offer = load_offer(tenant.offer_schema, data)
    check_shape(connection.templates, offer)
    return offer


def _sender(connection: Connection) -> Any:
    return current_app.extensions["lto"].relay.senders[connection.account.name]


def _owner() -> str:
    return str(session.get("sid", ""))


def _page(
    connection: Connection,
    values: dict[str, Any],
    errors: dict[str, list[dict[str, str]]] | None = None,
    *,
    offer: Offer | None = None,
    draft: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    errors = errors or {}
    kept = values.get("to") if offer is not None or draft else None
    fields = build_fields(values, errors, connection, kept_to=kept)
    request_shown = None
    if offer is not None:
        described = _sender(connection).describe(build_request(offer, WA_SOURCE))
        request_shown = pretty(masked_request(described))
    html = render_template(
        "console/try.html",
        connections=principal().connections(),
        connection=connection,
        sandbox=_sender(connection).sandbox,
        fields=fields,
        form_errors=errors.get(FORM_ERRORS, []),
        error_count=sum(len(v) for v in errors.values()),
        templates=template_choices(connection),
        preview=Preview.of(offer) if offer is not None else None,
        kaleyra_request=request_shown,
        draft=draft,
        now=wall_clock_ms(),
    )
    return html, status


def register(bp: Blueprint) -> None:
    @bp.get("/try")
    @signed_in
    def try_offer() -> Any:
        connection = _connection(request.args.get("connection"))
        return _page(connection, {})

    @bp.post("/try")
    @signed_in
    def try_preview() -> Any:
        connection = _connection(request.form.get("connection"))
        data = offer_input(request.form)
        kept = request.form.get("draft")
        if "to" not in data and kept:
            previous = console().store.draft(kept, _owner())
            if previous and previous.get("connection") == connection.name:
                data["to"] = previous["input"].get("to")
                data = {k: v for k, v in data.items() if v is not None}
        try:
            offer = _offer(connection, data)
        except InvalidInput as error:
            draft = None
            if data.get("to"):  # keep the number server-side for the corrected preview
                draft = console().store.save_draft(
                    _owner(), {"connection": connection.name, "input": data, "valid": False}
                )
            return _page(connection, data, errors_by_field(error.errors), draft=draft, status=422)
        draft = console().store.save_draft(
            _owner(), {"connection": connection.name, "input": data, "valid": True}
        )
        return _page(connection, data, offer=offer, draft=draft)

    @bp.post("/try/send")
    @signed_in
    def try_send() -> Any:
        store = console().store
        draft_id = request.form.get("draft") or ""
        draft = store.draft(draft_id, _owner())
        if draft is None or not draft.get("valid"):
            raise Refusal(
                410,
                "Preview expired",
                "This preview is gone (an hour old, or sent). Preview the offer again.",
            )
        connection = _connection(draft["connection"])
        data = draft["input"]
        try:
            offer = _offer(connection, data)  # again: a relative expiry starts now
        except InvalidInput as error:
            return _page(
                connection, data, errors_by_field(error.errors), draft=draft_id, status=422
            )
        live = not _sender(connection).sandbox
        if live and request.form.get("confirmed") != "yes":
            return render_template(
                "console/confirm.html",
                connection=connection,
                preview=Preview.of(offer),
                draft=draft_id,
                now=wall_clock_ms(),
            )
        submission = Submission(
            offer, PLATFORM, WA_SOURCE, account=connection.account.name, respond_async=False
        )
        runtime = current_app.extensions["lto"]
        try:
            settled = runtime.relay.submit(submission)
        except ConnectorError as error:
            errors = {FORM_ERRORS: [{"code": error.code, "message": error.message}]}
            return _page(connection, data, errors, offer=offer, draft=draft_id, status=409)
        store.drop_draft(draft_id)
        event = settled.event
        g.event_id = event.id
        if settled.replayed:
            flash(
                "An identical offer to this number was already sent; this is that message. "
                "Change something, or give an idempotency key, to send another.",
                "warn",
            )
        elif event.status == "accepted":
            flash(
                "Sent in the sandbox: validated, nothing sent."
                if event.sandbox
                else "Sent: Kaleyra accepted it.",
                "ok",
            )
        else:
            flash(f"Kaleyra did not accept it: the message is {event.status}.", "bad")
        return redirect(url_for("console.message", event_id=event.id), 303)
