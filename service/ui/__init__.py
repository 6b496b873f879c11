"""The web UI: server-rendered Jinja2 pages with vendored htmx, signed in with an API key.

Pages call the same store and engine functions as the JSON API; nothing is loaded from a CDN.
"""
