"""``python -m connector`` is the ``lto-connector`` command."""

from .cli import main

main()
