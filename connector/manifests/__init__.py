"""Platform manifests generated from the offer schema: build them, or check the committed ones.

``build(public_url)`` returns every artefact as ``{relative path: text}``; the same schemas and URL
always give the same bytes, so CI can fail when the committed ``manifests/`` differ.
"""

from __future__ import annotations

from pathlib import Path

from . import hubspot, shopify_flow, webhook_templates, zapier

DEFAULT_PUBLIC_URL = "https://lto-connector.example.com"


def build(public_url: str = DEFAULT_PUBLIC_URL) -> dict[str, str]:
    public_url = public_url.rstrip("/")
    files: dict[str, str] = {}
    files.update(zapier.files())
    files.update(hubspot.files(public_url))
    files.update(shopify_flow.files(public_url))
    files.update(webhook_templates.files(public_url))
    return dict(sorted(files.items()))


def differences(root: Path, files: dict[str, str]) -> list[str]:
    """Each path under ``root`` that is missing, different, or not generated any more."""
    out = []
    for path, text in files.items():
        target = root / path
        if not target.is_file():
            out.append(f"missing: {path}")
        elif target.read_text("utf-8") != text:
            out.append(f"differs: {path}")
    for target in sorted(p for p in root.rglob("*") if p.is_file()):
        path = target.relative_to(root).as_posix()
        if path not in files and not _ignored(path):
            out.append(f"not generated: {path}")
    return out


def write(root: Path, files: dict[str, str]) -> list[str]:
    """Write ``files`` under ``root``; remove generated files that are no longer produced.
    Returns the paths that changed."""
    changed = differences(root, files)
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text("utf-8") != text:
            target.write_text(text, "utf-8")
    for line in changed:
        if line.startswith("not generated: "):
            (root / line.removeprefix("not generated: ")).unlink()
    return changed


def _ignored(path: str) -> bool:
    """What a user may create beside the manifests (npm install, zapier push) is not ours."""
    parts = path.split("/")
    return "node_modules" in parts or parts[-1] in {"package-lock.json", ".zapierapprc", "build"}


__all__ = ["DEFAULT_PUBLIC_URL", "build", "differences", "write"]
