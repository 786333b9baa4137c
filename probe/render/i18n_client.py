"""The words of the report's frame per language: the service line, the running header and
footer of printed pages, quarters, years and ranges, CSV columns."""

from __future__ import annotations

CLIENT_MESSAGES = {
    "fr": {
        "service_line": "Service dans son ensemble",
        "service_rule": "Le service est indisponible lorsqu’au moins un service bloquant l’est ({names}).",
        "service_none": "Aucun service bloquant : pas de chiffre d’ensemble.",
        "page": "Page",
        "page_of": "sur",
        "quarter": "{n}e trimestre {year}",
        "quarter_1": "1er trimestre {year}",
        "year": "Année {year}",
        "range": "Du {start} au {end}",
        "months": "Mois",
        "month_not_begun": "pas encore commencé",
        "month_provisional": "provisoire",
        "period_figures": "Chiffres de la période",
        "incidents_by_class": "Incidents par classe",
        "twelve_months": "Mois par mois",
    },
    "en": {
        "service_line": "The service as a whole",
        "service_rule": "The service is down while at least one blocking endpoint is down ({names}).",
        "service_none": "No blocking endpoint: no overall figure.",
        "page": "Page",
        "page_of": "of",
        "quarter": "Q{n} {year}",
        "quarter_1": "Q1 {year}",
        "year": "Year {year}",
        "range": "From {start} to {end}",
        "months": "Month",
        "month_not_begun": "not yet begun",
        "month_provisional": "provisional",
        "period_figures": "The period's figures",
        "incidents_by_class": "Incidents by class",
        "twelve_months": "Month by month",
    },
}
