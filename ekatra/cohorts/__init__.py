"""Cohorts, invitations, student and sponsor portals, documents."""
