"""The flow of a batch as a service: submit (decide once, commit), receipts, holds.

`pipeline` runs validate → classify → decide → transform → seal → commit in one store
transaction; `holds` handles what a regulator or a new filing does with a held batch.
"""
