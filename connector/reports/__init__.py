"""Kaleyra's delivery reports: who may post them, what they say, and which message they are about.

``settings`` holds a connection's report settings (the callback's secret and each platform's
status destination); ``parse`` reads both documented callback shapes into ``StatusReport``s;
``store/statuses.py`` applies them (history, never backwards, early ones kept).
"""
