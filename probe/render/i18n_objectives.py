"""The words of the performance objective, per language (merged into the report's labels)."""

from __future__ import annotations

OBJECTIVE_MESSAGES = {
    "fr": {
        "objective": "Objectif de performance",
        "objective_rule": "{percentile} des temps de réponse au plus {under}",
        "objective_value": "Valeur du mois",
        "objective_met": "respecté",
        "objective_breached": "non respecté",
        "objective_no_data": "pas de données",
        "objective_counted": "{count} mesures comptées\u00a0: en service ou dégradées, hors maintenance\u202f; centile au rang le plus proche.",
        "objective_estimate": "Les mesures détaillées du mois ayant été purgées, la valeur est lue dans les histogrammes horaires\u00a0: entre {low} et {high}. La borne haute est retenue, de sorte que le résultat n’est jamais plus favorable que la réalité.",
        "objective_line": "objectif",
        "objective_daily": "{percentile} (objectif)",
        "latency_rule_objective": "Valeurs de chaque jour selon la règle de l’objectif\u00a0: mesures en service ou dégradées, hors maintenance.",
        "latency_rule_all": "Valeurs de chaque jour estimées d’après les histogrammes horaires des mesures en service ou dégradées, maintenance comprise.",
    },
    "en": {
        "objective": "Performance objective",
        "objective_rule": "{percentile} of response times at most {under}",
        "objective_value": "Month's value",
        "objective_met": "met",
        "objective_breached": "breached",
        "objective_no_data": "no data",
        "objective_counted": "{count} checks counted: up or degraded, outside maintenance; nearest-rank percentile.",
        "objective_estimate": "The month's detailed checks were pruned, so the value is read from the hourly histograms: between {low} and {high}. The upper bound is used, so the result is never more favourable than the truth.",
        "objective_line": "objective",
        "objective_daily": "{percentile} (objective)",
        "latency_rule_objective": "Each day's values by the objective's rule: up or degraded checks, outside maintenance.",
        "latency_rule_all": "Each day's values estimated from the hourly histograms of up or degraded checks, maintenance included.",
    },
}
