"""Telling each platform what happened to its message: the outbox's targets and the notifier.

A status Kaleyra reports that moves a message on (``connector/reports``) is fanned out into one
``lto_notifications`` row per interested target; the workers' notifier delivers those rows with
retries and backoff. One module per target: ``clevertap``, ``webengage``, ``hubspot``,
``zapier``, ``webhook`` (Standard Webhooks, for every other caller).
"""
