"""The report's words about several probe sites: the site rule, each site's figures, the
sites' agreement and the abstentions (merged into ``MESSAGES``)."""

from __future__ import annotations

SITE_MESSAGES = {
    "fr": {
        "sites_heading": "Sites de mesure",
        "site": "Site",
        "sites_combined": "Verdict combiné",
        "abstained": "Abstention",
        "site_rule_majority": "Règle : indisponible quand plus de la moitié des sites qui votent voient une panne"
                              " (au moins {min} site(s) votant, sinon non mesuré).",
        "site_rule_all": "Règle : indisponible quand tous les sites qui votent voient une panne"
                         " (au moins {min} site(s) votant, sinon non mesuré).",
        "site_rule_any": "Règle : indisponible dès qu’un site qui vote voit une panne"
                         " (au moins {min} site(s) votant, sinon non mesuré).",
        "sites_agreement": "Accord des sites, par jour",
        "agreement_up": "disponible",
        "agreement_down": "en panne",
        "agreement_abstained": "abstention",
        "agreement_no_data": "pas de mesure",
        "abstentions": "Abstentions des sites",
        "abstentions_note": "Un site s’abstient tant que tous ses points de contrôle sont en panne :"
                            " ses mesures ne sont alors pas des preuves.",
        "no_abstentions": "Aucune abstention ce mois-ci.",
        "abstention_cause": "Cause",
        "control_endpoints": "Points de contrôle : {names}.",
        "control_heading": "Points de contrôle (le réseau des sites, pas un service)",
        "sites_down": "{down} site(s) sur {voters} voient une panne :",
        "state_abstained": "Abstention",
    },
    "en": {
        "sites_heading": "Probe sites",
        "site": "Site",
        "sites_combined": "Combined verdict",
        "abstained": "Abstained",
        "site_rule_majority": "Rule: down when more than half of the voting sites see an outage"
                              " (at least {min} voting site(s), else unmonitored).",
        "site_rule_all": "Rule: down when all the voting sites see an outage"
                         " (at least {min} voting site(s), else unmonitored).",
        "site_rule_any": "Rule: down as soon as one voting site sees an outage"
                         " (at least {min} voting site(s), else unmonitored).",
        "sites_agreement": "Agreement of the sites, by day",
        "agreement_up": "up",
        "agreement_down": "down",
        "agreement_abstained": "abstained",
        "agreement_no_data": "no data",
        "abstentions": "Abstentions of the sites",
        "abstentions_note": "A site abstains while every one of its control endpoints is in an outage:"
                            " its checks are then no evidence.",
        "no_abstentions": "No abstention this month.",
        "abstention_cause": "Cause",
        "control_endpoints": "Control endpoints: {names}.",
        "control_heading": "Control endpoints (the sites' own network, not a service)",
        "sites_down": "{down} of {voters} site(s) see an outage:",
        "state_abstained": "Abstained",
    },
}
