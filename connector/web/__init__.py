"""Flask blueprints: platform hooks, health, OpenAPI."""
