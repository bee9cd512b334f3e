"""Exit statuses of every command, so that cron, systemd timers and scripts can tell what happened.

    0  OK           everything was handled (a document of `other` type is handled, too)
    1  ITEMS        some items failed: a message failed or was quarantined, a delivery is dead, a
                    file could not be read, a dry-run message would be quarantined
    2  CONFIG       a usage or config error (also click's own usage errors)
    3  UNAVAILABLE  a source or the ledger could not be used (the mail stays where it is)
    130             interrupted (Ctrl-C)
"""

OK = 0
ITEMS = 1
CONFIG = 2
UNAVAILABLE = 3
INTERRUPTED = 130
