"""The web UI's page groups, one router each; ``service.ui.routes`` joins them in order.

``common`` holds what every page needs (templates, security headers, sessions, CSRF) and
``results`` the filter form and result cards that the scenario, search and portal pages share.
"""
