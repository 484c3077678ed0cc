"""``lto-connector manifests build`` and ``manifests check``: the platform artefacts."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from .cli import main
from .manifests import DEFAULT_PUBLIC_URL, build, differences, tables, write

URL_HELP = (
    "The connector's public base URL, written into HubSpot's actionUrl/optionsUrl, Shopify "
    "Flow's runtime_url and the webhook templates."
)


README = click.option(
    "--readme",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("README.md"),
    show_default=True,
    help="The README whose field tables (<!-- fields:NAME -->) follow the manifests; "
    "skipped when the file does not exist.",
)


def _directory(flag: str, name: str, help_text: str) -> Any:
    return click.option(
        flag,
        name,
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("manifests"),
        show_default=True,
        help=help_text,
    )


def _public_url() -> str:
    return os.environ.get("CONNECTOR_PUBLIC_URL") or DEFAULT_PUBLIC_URL


@main.group(help="Platform manifests generated from the offer schema (Zapier, HubSpot, ...).")
def manifests() -> None:
    pass


@manifests.command("build", help="Write the manifests (default: ./manifests).")
@_directory("--out", "out", "Directory to write.")
@click.option(
    "--public-url",
    default=_public_url,
    show_default=f"$CONNECTOR_PUBLIC_URL, else {DEFAULT_PUBLIC_URL}",
    help=URL_HELP,
)
@README
def build_command(out: Path, public_url: str, readme: Path) -> None:
    changed = write(out, build(public_url))
    for line in changed:
        click.echo(line)
    click.echo(f"{out}: {len(changed)} file(s) changed")
    if readme.is_file():
        text = readme.read_text("utf-8")
        filled = tables.fill(text, DEFAULT_PUBLIC_URL)
        if filled != text:
            readme.write_text(filled, "utf-8")
            click.echo(f"{readme}: field tables updated")


@manifests.command("check", help="Fail when the committed manifests differ from the schemas.")
@_directory("--dir", "root", "Directory to compare.")
@click.option("--public-url", default=DEFAULT_PUBLIC_URL, show_default=True, help=URL_HELP)
@README
def check_command(root: Path, public_url: str, readme: Path) -> None:
    found = differences(root, build(public_url))
    if readme.is_file():
        found += tables.stale(readme.read_text("utf-8"), DEFAULT_PUBLIC_URL)
    if found:
        click.echo(f"{root} is out of date with the schemas:", err=True)
        for line in found:
            click.echo(f"  {line}", err=True)
        click.echo("Run `lto-connector manifests build` and commit the result.", err=True)
        sys.exit(1)
    click.echo(f"{root}: up to date")
