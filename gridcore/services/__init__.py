"""Writes and business rules: every write validates, checks the actor, audits and commits."""
