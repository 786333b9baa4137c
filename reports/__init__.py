"""Report templates shipped with probe (installed as the package ``probe.reports``)."""
