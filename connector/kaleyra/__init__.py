"""Everything that speaks Kaleyra's WhatsApp send API."""

from .client import KaleyraClient, SendResult
from .payload import WA_SOURCES, build_request
from .sandbox import SandboxClient

__all__ = ["WA_SOURCES", "KaleyraClient", "SandboxClient", "SendResult", "build_request"]
