"""The words of the report's "Backups" part (scheduled jobs that signal their runs), per language;
merged into MESSAGES."""

from __future__ import annotations

HEARTBEAT_MESSAGES = {
    "fr": {
        "hb_title": "Sauvegardes",
        "hb_rule": "Chaque exécution attendue est à l’heure si son signal de succès arrive dans le délai de grâce"
                   " après l’échéance, en retard s’il arrive avant l’échéance suivante, manquée sinon ; échouée si"
                   " elle signale un échec ; trop courte ou trop longue au regard des durées fixées. Une exécution"
                   " manquée ou échouée est un incident, corrigé au succès suivant.",
        "hb_schedule": "Planification « {cron} » (fuseau du contrat)",
        "hb_every": "Toutes les {every}",
        "hb_grace": "délai de grâce {grace}",
        "hb_min": "durée minimale {d}",
        "hb_max": "durée maximale {d}",
        "hb_expected": "Attendues",
        "hb_on_time": "À l’heure",
        "hb_late": "En retard",
        "hb_missed": "Manquées",
        "hb_failed": "Échouées",
        "hb_too_short": "Trop courtes",
        "hb_too_long": "Trop longues",
        "hb_due": "Échéance",
        "hb_not_on_time": "Exécutions qui n’ont pas été à l’heure",
        "hb_exit_status": "code de sortie {status}",
        "hb_all_on_time": "Toutes les exécutions de ce mois ont été à l’heure.",
        "hb_none_due": "Aucune exécution attendue ce mois-ci à ce jour.",
        "hb_state_on_time": "à l’heure",
        "hb_state_late": "en retard",
        "hb_state_missed": "manquée",
        "hb_state_failed": "échouée",
        "hb_state_too_short": "trop courte",
        "hb_state_too_long": "trop longue",
        "hb_state_overdue": "en attente (délai de grâce dépassé)",
        "hb_state_pending": "en attente",
    },
    "en": {
        "hb_title": "Backups",
        "hb_rule": "Each expected run is on time when its success signal arrives within the grace period after it"
                   " was due, late when it arrives before the next run is due, missed otherwise; failed when it"
                   " signals failure; too short or too long against its duration bounds. A missed or failed run"
                   " is an incident, fixed by the next success.",
        "hb_schedule": "Schedule “{cron}” (the contract’s time zone)",
        "hb_every": "Every {every}",
        "hb_grace": "grace {grace}",
        "hb_min": "at least {d}",
        "hb_max": "at most {d}",
        "hb_expected": "Expected",
        "hb_on_time": "On time",
        "hb_late": "Late",
        "hb_missed": "Missed",
        "hb_failed": "Failed",
        "hb_too_short": "Too short",
        "hb_too_long": "Too long",
        "hb_due": "Due",
        "hb_not_on_time": "Runs not on time",
        "hb_exit_status": "exit status {status}",
        "hb_all_on_time": "Every run of this month was on time.",
        "hb_none_due": "No run due this month so far.",
        "hb_state_on_time": "on time",
        "hb_state_late": "late",
        "hb_state_missed": "missed",
        "hb_state_failed": "failed",
        "hb_state_too_short": "too short",
        "hb_state_too_long": "too long",
        "hb_state_overdue": "overdue (past its grace)",
        "hb_state_pending": "pending",
    },
}
