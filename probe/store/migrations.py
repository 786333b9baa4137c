"""The schema's migrations, in order: migration N brings a database to schema version N."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE endpoints (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        url TEXT,
        interval_s REAL NOT NULL,
        site TEXT,
        first_seen INTEGER NOT NULL,  -- at of the oldest check
        config_at INTEGER NOT NULL,   -- at of the check url, interval_s and site came from
        pruned_before INTEGER         -- raw checks older than this were deleted
    );
    -- What a check was made with: one row per distinct (endpoint, url, interval, site).
    CREATE TABLE settings (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER NOT NULL REFERENCES endpoints(id),
        url TEXT,
        interval_ms INTEGER NOT NULL,
        site TEXT,
        UNIQUE (endpoint_id, url, interval_ms, site)
    );
    -- Repeated strings, stored once: kind is error_class, error, tls_version or tls_cipher.
    CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (kind, value)
    );
    CREATE TABLE certs (
        id INTEGER PRIMARY KEY,
        issuer TEXT,
        subject TEXT,
        not_after INTEGER,
        UNIQUE (issuer, subject, not_after)
    );
    CREATE TABLE checks (
        endpoint_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        setting_id INTEGER NOT NULL,
        state INTEGER NOT NULL,       -- 0 up, 1 degraded, 2 down
        error_class INTEGER,          -- labels.id
        error INTEGER,                -- labels.id
        http_status INTEGER,
        dns INTEGER,                  -- timings in 0.1 ms
        connect INTEGER,
        tls INTEGER,
        ttfb INTEGER,
        total INTEGER,
        tls_version INTEGER,          -- labels.id
        tls_cipher INTEGER,           -- labels.id
        cert_id INTEGER,              -- certs.id
        cert_days_left INTEGER,
        PRIMARY KEY (endpoint_id, at)
    ) WITHOUT ROWID;
    -- sla.Run, one row per run; the newest run of an endpoint is its open run.
    CREATE TABLE runs (
        endpoint_id INTEGER NOT NULL,
        start INTEGER NOT NULL,
        last INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        state INTEGER NOT NULL,
        error_class INTEGER,          -- labels.id
        count INTEGER NOT NULL,
        interval_ms INTEGER NOT NULL,
        PRIMARY KEY (endpoint_id, start)
    ) WITHOUT ROWID;
    CREATE TABLE rollups (
        endpoint_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,        -- start of the UTC hour
        up INTEGER NOT NULL,
        degraded INTEGER NOT NULL,
        down INTEGER NOT NULL,
        latency_count INTEGER NOT NULL,  -- checks in the histogram: not down, with a total_ms
        latency_sum INTEGER NOT NULL,    -- sum of their total_ms, in 0.1 ms
        histogram BLOB NOT NULL,         -- (bucket, count) byte pairs
        PRIMARY KEY (endpoint_id, hour)
    ) WITHOUT ROWID;
    CREATE TABLE daemon_runs (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        stopped_at INTEGER,
        stop_reason TEXT CHECK (stop_reason IN ('stop', 'crash')),
        pid INTEGER,
        version TEXT,
        site TEXT,
        heartbeat_at INTEGER,
        status TEXT                   -- JSON: the daemon's figures at its last heartbeat
    );
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER NOT NULL REFERENCES endpoints(id),
        start INTEGER NOT NULL,
        "end" INTEGER,
        severity TEXT CHECK (severity IN ('blocking', 'major', 'minor')),
        summary TEXT,
        source TEXT NOT NULL CHECK (source IN ('manual', 'detected')),
        ack_at INTEGER,
        ack_by TEXT,
        closed_at INTEGER
    );
    CREATE UNIQUE INDEX incidents_detected ON incidents (endpoint_id, start)
        WHERE source = 'detected';
    """,
    # 2: the alert outbox (probe.alerts): one row per message and channel, written when the
    # event happens and kept once delivered, so a restart neither re-sends nor loses one.
    """
    CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,            -- the event: endpoint, incident start, event, detail
        channel TEXT NOT NULL,        -- the [[alerts.webhook]] or [[alerts.email]] name
        endpoint TEXT NOT NULL,
        incident_start INTEGER NOT NULL,
        event TEXT NOT NULL,          -- opened | escalated | deadline | resolved
        created_at INTEGER NOT NULL,
        message TEXT NOT NULL,        -- JSON: text, subject, body, fields (never a secret)
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,     -- the next attempt, while pending
        sent_at INTEGER,
        last_error TEXT,
        UNIQUE (key, channel)
    );
    CREATE INDEX alert_outbox_due ON alert_outbox (next_at) WHERE status = 'pending';
    CREATE INDEX alert_outbox_incident ON alert_outbox (endpoint, incident_start);
    """,
    # 3: how long each check's data waited on the prober's host, left out of its timings
    # (CheckResult.wait_ms); unknown (NULL) for the checks stored before.
    """
    ALTER TABLE checks ADD COLUMN wait INTEGER;  -- 0.1 ms
    """,
    # 4: the paper trail (store.maintenance, store.paper_trail): declared maintenance windows,
    # where imported history came from, and when each record was made.
    """
    CREATE TABLE maintenance (
        id INTEGER PRIMARY KEY,
        start INTEGER,                -- one-off window; NULL for a recurring one
        "end" INTEGER,
        every TEXT,                   -- recurring: weekdays "0,6" (0 = Monday), local time at
        at TEXT,
        duration_ms INTEGER,
        endpoints TEXT,               -- JSON list of names; NULL: every endpoint
        reason TEXT NOT NULL DEFAULT '',
        declared_at INTEGER NOT NULL,
        declared_by TEXT,
        source TEXT NOT NULL CHECK (source IN ('command', 'config', 'import')),
        config_key TEXT UNIQUE,       -- a config window's identity: declared once, when first seen
        cancelled_at INTEGER,
        cancelled_by TEXT
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        file TEXT NOT NULL,
        imported_at INTEGER NOT NULL
    );
    -- Which endpoints' checks an import brought, and over which span.
    CREATE TABLE imported_spans (
        import_id INTEGER NOT NULL REFERENCES imports(id),
        endpoint_id INTEGER NOT NULL REFERENCES endpoints(id),
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        checks INTEGER NOT NULL,
        PRIMARY KEY (import_id, endpoint_id)
    ) WITHOUT ROWID;
    ALTER TABLE daemon_runs ADD COLUMN import_id INTEGER;  -- brought by an import, not run here
    ALTER TABLE incidents ADD COLUMN recorded_at INTEGER;  -- when the record was made
    """,
    # 5: the host each daemon run ran on (with its pid, version and site: which daemon it was)
    """
    ALTER TABLE daemon_runs ADD COLUMN host TEXT;
    """,
    # 6: the signals of [[heartbeat]] jobs (store.pings): start, success, fail, as received
    """
    CREATE TABLE pings (
        id INTEGER PRIMARY KEY,
        heartbeat TEXT NOT NULL,      -- the [[heartbeat]] name
        at INTEGER NOT NULL,          -- when probe received it (ms)
        kind TEXT NOT NULL CHECK (kind IN ('start', 'success', 'fail')),
        exit_status INTEGER,          -- as the job said (probe ping -- COMMAND)
        duration_ms INTEGER,          -- as the job measured it
        source TEXT NOT NULL DEFAULT 'listen' CHECK (source IN ('listen', 'import')),
        UNIQUE (heartbeat, at, kind)
    );
    """,
    # 7: several probe sites: an endpoints row is one site's series of checks of the endpoint
    # (name, site), with its own checks, runs and rollups; incidents and the paper trail name
    # the endpoint's first series. The rows keep their ids.
    """
    CREATE TABLE endpoints_by_site (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        url TEXT,
        interval_s REAL NOT NULL,
        site TEXT,
        first_seen INTEGER NOT NULL,
        config_at INTEGER NOT NULL,
        pruned_before INTEGER
    );
    INSERT INTO endpoints_by_site (id, name, url, interval_s, site, first_seen, config_at, pruned_before)
        SELECT id, name, url, interval_s, site, first_seen, config_at, pruned_before FROM endpoints;
    DROP TABLE endpoints;
    ALTER TABLE endpoints_by_site RENAME TO endpoints;
    CREATE UNIQUE INDEX endpoints_site ON endpoints (name, coalesce(site, ''));
    """,
    # 8: the dated TLS audits of each endpoint (store.tls_audits): what the server accepted and
    # the verdict against a profile, or why it could not be audited.
    """
    CREATE TABLE tls_audits (
        id INTEGER PRIMARY KEY,
        endpoint TEXT NOT NULL,       -- the endpoint's name (audited before its first check is stored, too)
        at INTEGER NOT NULL,          -- when the audit began, ms
        profile TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('compliant', 'warning', 'not_compliant', 'failed')),
        report TEXT NOT NULL,         -- JSON: the audit as `probe tls-audit --json` writes it
        UNIQUE (endpoint, at)
    );
    """,
    # 9: several sites' shipping (store.shipping): a site's outbox to its hub, in order; on the
    # hub, what each site has shipped, and which daemon runs came from a site.
    """
    CREATE TABLE upstream_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint_id INTEGER, at INTEGER,  -- a check: its row of checks, read when pushed
        line TEXT                     -- a daemon run: its line of the export format
    );
    CREATE TABLE upstream_state (id INTEGER PRIMARY KEY CHECK (id = 1), stream TEXT NOT NULL,
        shipped_through INTEGER NOT NULL DEFAULT 0, shipped_at INTEGER);
    CREATE TABLE hub_sites (
        name TEXT PRIMARY KEY, stream TEXT NOT NULL,
        stored_through INTEGER NOT NULL, -- the highest sequence stored from this stream
        first_push_at INTEGER NOT NULL, last_push_at INTEGER NOT NULL,
        newest_check_at INTEGER,      -- the newest check it pushed
        checks INTEGER NOT NULL DEFAULT 0, pushes INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    ALTER TABLE daemon_runs ADD COLUMN pushed_at INTEGER;  -- received from a site, not run here
    """,
    # 10: an incident's timeline of notes (store.incident_notes): who wrote what, when
    """
    CREATE TABLE incident_notes (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        at INTEGER NOT NULL,
        author TEXT,
        text TEXT NOT NULL
    );
    CREATE INDEX incident_notes_by_incident ON incident_notes (incident_id, at);
    """,
    # 11: the incidents of [[heartbeat]] jobs (store.job_incidents): a missed or failed run's
    # incident gets a row of its own (endpoint NULL, the heartbeat's name), so that it has an id
    # and can be acknowledged like an endpoint's. The table is rebuilt: endpoint_id may be NULL.
    """
    CREATE TABLE incidents_with_jobs (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER REFERENCES endpoints(id),
        heartbeat TEXT,               -- a [[heartbeat]] name, for a job's incident
        start INTEGER NOT NULL,
        "end" INTEGER,
        severity TEXT CHECK (severity IN ('blocking', 'major', 'minor')),
        summary TEXT,
        source TEXT NOT NULL CHECK (source IN ('manual', 'detected')),
        ack_at INTEGER,
        ack_by TEXT,
        closed_at INTEGER,
        recorded_at INTEGER,
        CHECK ((endpoint_id IS NULL) <> (heartbeat IS NULL))
    );
    INSERT INTO incidents_with_jobs (id, endpoint_id, start, "end", severity, summary, source, ack_at, ack_by,
                                     closed_at, recorded_at)
        SELECT id, endpoint_id, start, "end", severity, summary, source, ack_at, ack_by, closed_at, recorded_at
        FROM incidents;
    DROP TABLE incidents;
    ALTER TABLE incidents_with_jobs RENAME TO incidents;
    CREATE UNIQUE INDEX incidents_detected ON incidents (endpoint_id, start) WHERE source = 'detected';
    CREATE UNIQUE INDEX incidents_of_jobs ON incidents (heartbeat, start) WHERE heartbeat IS NOT NULL;
    """,
    # 12: when each [[heartbeat]] job was declared (store.job_declarations): first seen by probe
    # in the config, with the terms it is expected on; a change of terms is a new declaration
    """
    CREATE TABLE job_declarations (
        id INTEGER PRIMARY KEY,
        heartbeat TEXT NOT NULL,
        schedule TEXT,                -- cron, in the SLA's time zone
        every_ms INTEGER,             -- or every so long
        grace_ms INTEGER NOT NULL,
        min_duration_ms INTEGER,
        max_duration_ms INTEGER,
        declared_at INTEGER NOT NULL,
        declared_by TEXT,
        source TEXT NOT NULL CHECK (source IN ('config', 'import')),
        CHECK ((schedule IS NULL) <> (every_ms IS NULL))
    );
    CREATE INDEX job_declarations_by_heartbeat ON job_declarations (heartbeat, declared_at);
    """,
]
