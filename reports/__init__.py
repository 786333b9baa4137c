"""Report templates shipped with probe (installed as the package ``probe.reports``)."""

__all__: list[str] = []  # templates only: nothing to import
