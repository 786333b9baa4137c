"""The report's words per language: messages, months, countries, deadline units."""

from __future__ import annotations

from .i18n_client import CLIENT_MESSAGES
from .i18n_objectives import OBJECTIVE_MESSAGES
from .i18n_heartbeats import HEARTBEAT_MESSAGES
from .i18n_tls import TLS_MESSAGES

LANGUAGES = ("fr", "en")


MONTHS = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}


# Labels of the report. Long prose (the rules) lives in the _rules_<lang>.html partials.
MESSAGES = {
    "fr": {
        "report": "Rapport de disponibilité",
        "provider": "Prestataire",
        "client": "Client",
        "support": "Support",
        "generated_at": "État au",
        "probe_sites": "Sites de mesure",
        "timezone": "Fuseau horaire",
        "period": "Période",
        "period_range": "du {start} au {end}",
        "target": "Objectif",
        "summary": "Synthèse",
        "endpoint": "Service",
        "availability": "Disponibilité",
        "status": "Statut",
        "downtime": "Indisponibilité",
        "allowed": "Budget autorisé",
        "coverage": "Couverture",
        "incidents": "Incidents",
        "met": "Respecté",
        "breached": "Non respecté",
        "no_data": "pas de données",
        "no_data_status": "Pas de données",
        "figures": "Chiffres du mois",
        "period_length": "Durée de la période",
        "eligible": "Temps mesuré hors maintenance",
        "maintenance": "Maintenance",
        "unmonitored": "Non surveillé",
        "blips": "Échecs isolés (non confirmés)",
        "severity_cap": "Classe maximale des incidents de ce service",
        "availability_by_day": "Disponibilité jour par jour",
        "response_time_by_day": "Temps de réponse jour par jour",
        "median": "médiane",
        "p95": "95e centile",
        "no_latency": "Aucune mesure de temps de réponse ce mois-ci.",
        "chart_target": "objectif",
        "chart_no_data_day": "jour sans données",
        "chart_below_axis": "sous l'échelle",
        "incident_class": "Classe",
        "cause": "Cause",
        "start": "Début",
        "end": "Fin",
        "duration": "Durée",
        "acknowledge": "Prise en compte",
        "fix": "Correction",
        "deadline": "échéance",
        "ongoing": "en cours",
        "manual": "saisi manuellement",
        "acknowledged_at": "prise en compte le {at}",
        "of_which_downtime": "dont indisponibilité",
        "by": "par {who}",
        "deadline_met": "respectée",
        "deadline_missed": "dépassée",
        "deadline_open": "en cours",
        "no_incidents": "Aucun incident ce mois-ci.",
        "maintenance_windows": "Fenêtres de maintenance",
        "no_maintenance": "Aucune maintenance déclarée ce mois-ci.",
        "reason": "Motif",
        "unmonitored_periods": "Périodes non surveillées",
        "no_unmonitored": "Aucune période non surveillée ce mois-ci.",
        "probe_gaps": "Interruptions de la sonde",
        "no_probe_gaps": "Aucune interruption de la sonde ce mois-ci.",
        "probe_gaps_note": "Pendant ces périodes la sonde ne mesurait aucun service ; "
        "ce temps est compté comme non surveillé, jamais comme disponible.",
        "how_computed": "Méthode de calcul",
        "blocking": "Bloquant",
        "major": "Majeur",
        "minor": "Mineur",
        "url": "Adresse",
        "times_note": "Toutes les heures sont données dans le fuseau {tz}.",
        "as_of": "État au",
        "provisional": "Rapport provisoire : le mois n’est pas terminé. Les chiffres sont ceux du {at} et changeront d’ici la fin du mois.",
        "recorded_range": "Mesuré du {start} au {end}",
        "not_recorded": "Aucune mesure de ce service ce mois-ci.",
        "recorded_by_daemon": "Mesures enregistrées par la sonde (site {site}).",
        "imported_from": "Historique importé du fichier {file} le {at} : {checks} mesures du {start} au {end}.",
        "history_imported": "Une partie de l’historique de ce mois a été importée (voir chaque service).",
        "gap_stopped": "sonde arrêtée",
        "gap_crashed": "sonde interrompue (arrêt brutal)",
        "gap_silent": "sonde muette (plus de signal de vie)",
        "gap_not_recorded": "aucune exécution de la sonde enregistrée",
        "probe_runs": "Exécutions de la sonde",
        "run_site": "Site",
        "run_host": "Machine",
        "run_process": "Processus",
        "run_version": "Version",
        "running": "en cours",
        "imported": "importé",
        "declared": "Déclarée",
        "excluded": "Exclu",
        "late": "déclarée en retard",
        "cancelled": "annulée",
        "recurring": "récurrente",
        "blip_events": "Échecs isolés",
        "no_blips": "Aucun échec isolé ce mois-ci.",
        "blips_more": "… et {n} autres (tous sont listés dans le rapport JSON).",
        "state": "État",
        "checks": "Mesures",
        "state_down": "indisponible",
        "state_degraded": "dégradé",
        "deadline_none": "sans objet (maintenance)",
    },
    "en": {
        "report": "Availability report",
        "provider": "Provider",
        "client": "Client",
        "support": "Support",
        "generated_at": "As of",
        "probe_sites": "Probe sites",
        "timezone": "Time zone",
        "period": "Period",
        "period_range": "from {start} to {end}",
        "target": "Target",
        "summary": "Summary",
        "endpoint": "Service",
        "availability": "Availability",
        "status": "Status",
        "downtime": "Downtime",
        "allowed": "Allowed budget",
        "coverage": "Coverage",
        "incidents": "Incidents",
        "met": "Met",
        "breached": "Breached",
        "no_data": "no data",
        "no_data_status": "No data",
        "figures": "Figures for the month",
        "period_length": "Length of the period",
        "eligible": "Monitored time outside maintenance",
        "maintenance": "Maintenance",
        "unmonitored": "Unmonitored",
        "blips": "Isolated failures (not confirmed)",
        "severity_cap": "Highest incident class for this service",
        "availability_by_day": "Availability by day",
        "response_time_by_day": "Response time by day",
        "median": "median",
        "p95": "95th percentile",
        "no_latency": "No response time was measured this month.",
        "chart_target": "target",
        "chart_no_data_day": "day with no data",
        "chart_below_axis": "below the scale",
        "incident_class": "Class",
        "cause": "Cause",
        "start": "Start",
        "end": "End",
        "duration": "Duration",
        "acknowledge": "Acknowledgement",
        "fix": "Fix",
        "deadline": "deadline",
        "ongoing": "ongoing",
        "manual": "recorded by hand",
        "acknowledged_at": "acknowledged {at}",
        "of_which_downtime": "of which downtime",
        "by": "by {who}",
        "deadline_met": "met",
        "deadline_missed": "missed",
        "deadline_open": "open",
        "no_incidents": "No incidents this month.",
        "maintenance_windows": "Maintenance windows",
        "no_maintenance": "No maintenance was declared this month.",
        "reason": "Reason",
        "unmonitored_periods": "Unmonitored periods",
        "no_unmonitored": "No unmonitored period this month.",
        "probe_gaps": "Probe interruptions",
        "no_probe_gaps": "The probe ran without interruption this month.",
        "probe_gaps_note": "While the probe was interrupted it measured no service; "
        "that time counts as unmonitored, never as available.",
        "how_computed": "How these figures are computed",
        "blocking": "Blocking",
        "major": "Major",
        "minor": "Minor",
        "url": "URL",
        "times_note": "All times are in the {tz} time zone.",
        "as_of": "As of",
        "provisional": "Provisional report: the month is not over. Figures are as of {at} and will change until the month ends.",
        "recorded_range": "Recorded from {start} to {end}",
        "not_recorded": "No check of this service was recorded this month.",
        "recorded_by_daemon": "Checks recorded by the probe daemon (site {site}).",
        "imported_from": "History imported from the file {file} on {at}: {checks} checks from {start} to {end}.",
        "history_imported": "Part of this month’s history was imported (see each service).",
        "gap_stopped": "probe stopped",
        "gap_crashed": "probe crashed",
        "gap_silent": "probe silent (no heartbeat)",
        "gap_not_recorded": "no probe run recorded",
        "probe_runs": "Probe runs",
        "run_site": "Site",
        "run_host": "Host",
        "run_process": "Process",
        "run_version": "Version",
        "running": "running",
        "imported": "imported",
        "declared": "Declared",
        "excluded": "Excluded",
        "late": "declared late",
        "cancelled": "cancelled",
        "recurring": "recurring",
        "blip_events": "Isolated failures",
        "no_blips": "No isolated failure this month.",
        "blips_more": "… and {n} more (all are listed in the JSON report).",
        "state": "State",
        "checks": "Checks",
        "state_down": "down",
        "state_degraded": "degraded",
        "deadline_none": "none (maintenance)",
    },
}


for _lang, _labels in OBJECTIVE_MESSAGES.items():
    MESSAGES[_lang].update(_labels)
for _lang, _words in HEARTBEAT_MESSAGES.items():
    MESSAGES[_lang].update(_words)
for _lang in LANGUAGES:  # the words of the TLS audits' section, kept in a module of their own
    MESSAGES[_lang].update(TLS_MESSAGES[_lang])


COUNTRIES = {"fr": {"FR": "France"}, "en": {"FR": "France"}}


DEADLINE_UNITS = {
    "fr": {"h": ("heure", "heures"), "wh": ("heure ouvrée", "heures ouvrées"),
           "wd": ("jour ouvré", "jours ouvrés"), "sh": ("heure de support", "heures de support")},
    "en": {"h": ("hour", "hours"), "wh": ("working hour", "working hours"),
           "wd": ("working day", "working days"), "sh": ("support hour", "support hours")},
}


def check_language(lang: str) -> str:
    """``"fr-FR"`` -> ``"fr"``; a language the report has no labels for is an error."""
    code = str(lang).split("-")[0].split("_")[0].lower()
    if code not in LANGUAGES:
        raise ValueError(f"report language {lang!r} is not supported (use one of: {', '.join(LANGUAGES)})")
    return code


for _lang, _words in CLIENT_MESSAGES.items():  # the frame's words (i18n_client.py)
    MESSAGES[_lang].update(_words)
