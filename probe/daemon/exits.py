"""The daemon's exit statuses (sysexits.h), which systemd and scripts tell apart."""

EXIT_CONFIG = 78  # EX_CONFIG: systemd is told not to restart on it (RestartPreventExitStatus)
EXIT_CANTCREAT = 73  # EX_CANTCREAT: the database cannot be opened
EXIT_LISTEN = 71  # EX_OSERR: --listen cannot bind
EXIT_DATABASE_LOST = 74  # EX_IOERR: the database was deleted or replaced while running; a restart makes a new one
EXIT_RUNNING = 75  # EX_TEMPFAIL: another daemon runs on the database; try again once it stops
