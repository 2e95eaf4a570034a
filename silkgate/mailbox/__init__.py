"""The importer's mailbox: the envelope state machine, pulling (inbox), push delivery and
retention."""
