"""The importer's mailbox: the envelope state machine and everything that moves envelopes.

states       the rules (pure): the four transitions, when bytes are served, when an
             attempt counts, when retention drops data
service      MailboxService: the rules applied to a store (receipts, release, reject,
             fetch, attempt counting, retention); every caller goes through it
messages     the one "delivered" message (outbox and re-queue)
retention    the retention plan (pure)
delivery     push delivery (the worker) and the background threads of `silkgate serve`
inbox        the importer's side: pull, open, receipt
"""
