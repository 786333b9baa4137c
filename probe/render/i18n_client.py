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
        "period_provisional": "Rapport provisoire : la période n’est pas terminée. Les chiffres sont ceux du {at} et changeront d’ici sa fin.",
        "period_rules": "Chaque mois est calculé selon les règles de son rapport mensuel, qui les énonce. Les chiffres de la période ne sont pas une moyenne de pourcentages : ils sont calculés à partir de la somme des temps mesurés hors maintenance et de la somme des indisponibilités de ses mois, selon les mêmes formules, tronqués de même. Une panne à cheval sur deux mois compte sa part dans chacun ; un incident à cheval sur deux mois n’est compté qu’une fois. Les mois non commencés n’ont pas de chiffres ; le mois en cours est provisoire.",
        "how_period": "Méthode de calcul de la période",
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
        "period_provisional": "Provisional report: the period is not over. Figures are as of {at} and will change until it ends.",
        "period_rules": "Each month follows the rules of its monthly report, which states them. The period's figures are not an average of percentages: they are worked out from the sum of its months' monitored time outside maintenance and the sum of their downtime, with the same formulas, truncated the same way. An outage across two months counts its part in each; an incident across two months is counted once. Months not yet begun have no figures; the month under way is provisional.",
        "how_period": "How the period's figures are computed",
    },
}
