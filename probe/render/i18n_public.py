"""The words of the client's status page and its Atom feed, per language."""

from __future__ import annotations

PUBLIC_MESSAGES = {
    "en": {
        "status_title": "Service status", "all_up": "All services are operating normally.",
        "some_down": "Some services are disrupted.", "current_incident": "Incident in progress",
        "maintenance_now": "Maintenance in progress", "maintenance_ahead": "Scheduled maintenance",
        "since": "since", "from": "from", "to": "to", "all_services": "all services",
        "last_days": "Last 90 days", "availability_90d": "availability over 90 days",
        "no_data": "no data", "met": "target met", "below_target": "below target", "updated": "Updated",
        "times_note": "Times in the {tz} time zone.", "feed": "Follow the incidents (Atom feed)",
        "history": "Incidents of the last 90 days", "no_incidents": "No incident in the last 90 days.",
        "resolved": "resolved", "ongoing": "ongoing", "cancelled": "cancelled", "lasted": "lasted",
        "state_up": "Operational", "state_degraded": "Degraded", "state_down": "Unavailable",
        "state_unknown": "No data", "blocking": "Blocking", "major": "Major", "minor": "Minor",
        "feed_incident": "Incident", "feed_resolved": "Resolved", "feed_maintenance": "Maintenance",
        "feed_cancelled": "Cancelled maintenance", "cause": "Cause", "manual": "Reported by the provider",
    },
    "fr": {
        "status_title": "État des services", "all_up": "Tous les services fonctionnent normalement.",
        "some_down": "Certains services sont perturbés.", "current_incident": "Incident en cours",
        "maintenance_now": "Maintenance en cours", "maintenance_ahead": "Maintenance prévue",
        "since": "depuis le", "from": "du", "to": "au", "all_services": "tous les services",
        "last_days": "90 derniers jours", "availability_90d": "disponibilité sur 90 jours",
        "no_data": "pas de données", "met": "objectif atteint", "below_target": "sous l'objectif",
        "updated": "Mis à jour", "times_note": "Heures du fuseau {tz}.", "feed": "Suivre les incidents (flux Atom)",
        "history": "Incidents des 90 derniers jours", "no_incidents": "Aucun incident ces 90 derniers jours.",
        "resolved": "résolu", "ongoing": "en cours", "cancelled": "annulée", "lasted": "durée",
        "state_up": "Opérationnel", "state_degraded": "Dégradé", "state_down": "Indisponible",
        "state_unknown": "Pas de données", "blocking": "Bloquant", "major": "Majeur", "minor": "Mineur",
        "feed_incident": "Incident", "feed_resolved": "Résolu", "feed_maintenance": "Maintenance",
        "feed_cancelled": "Maintenance annulée", "cause": "Cause", "manual": "Signalé par le prestataire",
    },
}
